/* ih_error.c - messages for the project-wide error codes. */
#include "ih_config.h"

#include <errno.h>
#include <stddef.h>

#include "ih_error.h"

static const char *const messages[IH_ERR__COUNT] = {
	[0] = "success",
	[-IH_ERR_NOMEM] = "out of memory",
	[-IH_ERR_IO] = "storage I/O error",
	[-IH_ERR_NOSPACE] = "no space left on the output device",
	[-IH_ERR_READONLY] = "output is on a read-only filesystem",
	[-IH_ERR_PERM] = "permission denied on the output or log path",
	[-IH_ERR_CLIENT_GONE] = "client went away before sending the whole body",
	[-IH_ERR_TOO_LARGE] = "request body larger than the configured limit",
	[-IH_ERR_NOT_JSON] = "body is not valid JSON",
	[-IH_ERR_NOT_OBJECT] = "body is not a JSON object",
	[-IH_ERR_NO_ID] = "body has no usable id",
	[-IH_ERR_TOO_DEEP] = "JSON nesting deeper than the limit",
	[-IH_ERR_BASE64] = "invalid base64 data",
	[-IH_ERR_EMPTY] = "empty data",
	[-IH_ERR_UNKNOWN_FORMAT] = "not a known image or video format",
	[-IH_ERR_PNG_SIGNATURE] = "PNG signature missing",
	[-IH_ERR_PNG_CRC] = "PNG chunk CRC mismatch",
	[-IH_ERR_PNG_TRUNCATED] = "PNG truncated before IEND",
	[-IH_ERR_PNG_HEADER] = "PNG header (IHDR) invalid",
	[-IH_ERR_IMAGE_TOO_LARGE] = "image dimensions over the configured limits",
	[-IH_ERR_PNG_CHUNK] = "PNG chunk invalid or over the size limit",
	[-IH_ERR_JPEG] = "JPEG structure invalid",
	[-IH_ERR_WEBP] = "WebP container invalid",
	[-IH_ERR_TOO_MANY] = "more images than IMAGEHOOK_MAX_IMAGES allows",
	[-IH_ERR_UNAUTHORIZED] = "token missing or wrong",
	[-IH_ERR_METHOD] = "method not allowed",
	[-IH_ERR_CONFIG] = "configuration invalid",
	[-IH_ERR_NO_TOKEN] = "no token configured and IMAGEHOOK_ALLOW_OPEN is not set",
	[-IH_ERR_BAD_ID] = "job id has characters outside the safe alphabet or is too long",
	[-IH_ERR_LIMIT] = "a configured limit was exceeded",
	[-IH_ERR_LOG] = "log line could not be written",
	[-IH_ERR_GIF] = "GIF structure invalid",
	[-IH_ERR_ISOBMFF] = "MP4/MOV/AVIF/HEIF box structure invalid",
	[-IH_ERR_EBML] = "WebM/Matroska element structure invalid",
};

const char *ih_strerror(int err)
{
	if (err > 0 || err <= -IH_ERR__COUNT || messages[-err] == NULL)
		return "unknown error";
	return messages[-err];
}

int ih_err_from_errno(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
		return IH_ERR_NOSPACE;
	case EROFS:
		return IH_ERR_READONLY;
	case EACCES:
	case EPERM:
		return IH_ERR_PERM;
	case ENOMEM:
		return IH_ERR_NOMEM;
	default:
		return IH_ERR_IO;
	}
}
