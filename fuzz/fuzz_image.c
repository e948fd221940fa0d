/* fuzz_image.c - image_check on any bytes (every container), and image_png_add_text on the PNGs that pass. */
#include "ih_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "fuzz.h"
#include "ih_error.h"
#include "image.h"

/* Signature (8) + IHDR (4 length, 4 type, 13 data, 4 CRC). */
#define PNG_AFTER_IHDR 33

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_info info, tight_info;
	enum image_format fmt = image_sniff(data, size);
	FUZZ_ASSERT(image_format_ext(fmt) != NULL && image_format_mime(fmt) != NULL &&
		    image_format_name(fmt) != NULL);

	/* The input as base64 text (any bytes: refused cleanly), and its base64 sniffs as it does. */
	(void)image_sniff_base64((const char *)data, size);
	if (size <= 96) {
		char b64[4 * (96 / 3) + 1];
		size_t n = b64_encode(data, size, b64);
		FUZZ_ASSERT(image_sniff_base64(b64, n) == fmt);
	}

	/* Tight limits reach every limit's path; then the defaults, the real ones. */
	struct image_limits tight = { .max_width = 64, .max_height = 64, .max_pixels = 2048,
				      .max_chunk = 4096, .max_text_chunk = 512,
				      .max_inflated_text = 2048 };
	memset(&tight_info, 0, sizeof tight_info);
	int tight_rc = image_check(data, size, &tight, &tight_info);
	memset(&info, 0, sizeof info);
	int rc = image_check(data, size, NULL, &info);
	/* Raising a limit never turns a valid image into an invalid one. */
	FUZZ_ASSERT(tight_rc != IH_OK || rc == IH_OK);
	FUZZ_ASSERT(info.n_keywords >= 0 && info.n_keywords <= IMAGE_MAX_KEYWORDS);
	if (rc != IH_OK)
		return 0;
	FUZZ_ASSERT(info.format == fmt && fmt != IMAGE_UNKNOWN);
	FUZZ_ASSERT(info.width > 0 && info.height > 0);
	FUZZ_ASSERT(info.width <= 16384 && info.height <= 16384);
	FUZZ_ASSERT(info.ext == image_format_ext(fmt) && info.mime == image_format_mime(fmt));
	/* a still image states no duration; only an animation or a sequence is animated */
	FUZZ_ASSERT(info.animated || image_format_is_video(fmt) || info.duration_ms == 0);
	FUZZ_ASSERT(!info.animated || !image_format_is_video(fmt));
	FUZZ_ASSERT(!info.animated || info.frames != 1);
	/* what passed tight limits passes with the same facts under the defaults */
	if (tight_rc == IH_OK)
		FUZZ_ASSERT(tight_info.width == info.width && tight_info.height == info.height &&
			    tight_info.duration_ms == info.duration_ms &&
			    tight_info.animated == info.animated);
	if (fmt != IMAGE_PNG)
		return 0;

	/* Text from the input's tail: any bytes, so invalid UTF-8 must be refused cleanly. */
	char text[65];
	size_t tl = size < 64 ? size : 64;
	memcpy(text, data + size - tl, tl);
	text[tl] = '\0';
	const char *keywords[] = { "parameters", "prompt", text };
	for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++) {
		unsigned char *out = NULL;
		size_t out_len = 0;
		int arc = image_png_add_text(data, size, keywords[k], text, &out, &out_len);
		if (arc != IH_OK) {
			FUZZ_ASSERT(out == NULL);
			continue;
		}
		/* Still a valid PNG, one chunk longer, every original byte kept. */
		struct image_info after;
		memset(&after, 0, sizeof after);
		FUZZ_ASSERT(image_check(out, out_len, NULL, &after) == IH_OK);
		FUZZ_ASSERT(out_len > size && after.width == info.width && after.height == info.height);
		FUZZ_ASSERT(memcmp(out, data, PNG_AFTER_IHDR) == 0);
		FUZZ_ASSERT(memcmp(out + out_len - (size - PNG_AFTER_IHDR), data + PNG_AFTER_IHDR,
				   size - PNG_AFTER_IHDR) == 0);
		if (k == 0)
			FUZZ_ASSERT(after.has_parameters);
		free(out);
	}
	return 0;
}
