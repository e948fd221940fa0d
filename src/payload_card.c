/* payload_card.c - read back what was written: the gallery's job cards, the stats' log lines. */
#include "ih_config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ih_error.h"
#include "payload_int.h"



/* Copies src into dst[0..size), cut at a UTF-8 boundary and ended with "..." when too long. */
static void copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n < size) {
		memcpy(dst, src, n + 1);
		return;
	}
	size_t keep = size > 4 ? size - 4 : 0;
	while (keep > 0 && ((unsigned char)src[keep] & 0xc0) == 0x80)
		keep--;
	memcpy(dst, src, keep);
	snprintf(dst + keep, size - keep, "%s", size > 4 ? "..." : "");
}

/* ---- what of a URL may be shown ------------------------------------------------ */

/* A bounded text being written: what does not fit is left out; always NUL-terminated. */
struct out_text {
	char *p;
	size_t size, len;
};

static void out_put(struct out_text *o, const char *s, size_t n)
{
	size_t room = o->size - 1 - o->len;
	if (n > room)
		n = room;
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

/*
 * Writes the URL u[0..n) to o as it may be shown: scheme, host, port and path. The
 * user info, query and fragment are left out, for a presigned URL's query is its
 * credential (X-Amz-Signature, X-Amz-Credential); with mark set, a query or
 * fragment left out becomes "?\u2026" so that a reader sees something was.
 */
static void url_shown(struct out_text *o, const char *u, size_t n, int mark)
{
	size_t end = 0, colon = 0, start = 0;
	while (end < n && u[end] != '?' && u[end] != '#')
		end++;
	while (colon < end && u[colon] != ':' && u[colon] != '/')
		colon++;
	if (colon + 3 <= end && u[colon] == ':' && u[colon + 1] == '/' && u[colon + 2] == '/') {
		size_t host = colon + 3, host_end = host, at = 0;
		while (host_end < end && u[host_end] != '/')
			host_end++;
		for (size_t i = host; i < host_end; i++)
			if (u[i] == '@')
				at = i + 1;
		if (at > 0) {
			/* "https://user:secret@host/": the scheme, then the host. */
			out_put(o, u, host);
			start = at;
		}
	}
	out_put(o, u + start, end - start);
	if (mark && end < n)
		out_put(o, "?\xe2\x80\xa6", 4);
}

/* Copies a result link's URL into dst[0..size) as shown (url_shown()), cut to fit. */
static void link_shown(char *dst, size_t size, const char *url)
{
	size_t n = strlen(url);
	char *tmp = malloc(n + 1);
	struct out_text o = { tmp, n + 1, 0 };
	dst[0] = '\0';
	if (tmp == NULL)
		return;   /* nothing shown rather than too much */
	tmp[0] = '\0';
	url_shown(&o, url, n, 0);
	copy_cut(dst, size, tmp);
	free(tmp);
}

/* Ends a URL inside text: white space, controls, quotes, angle brackets, backslash. */
static int url_end(unsigned char ch)
{
	return ch <= ' ' || ch == 0x7f || ch == '"' || ch == '\'' || ch == '<' || ch == '>' ||
	       ch == '`' || ch == '\\';
}

static int starts_ci(const char *s, const char *prefix)
{
	for (; *prefix != '\0'; s++, prefix++)
		if (*s == '\0' || (*s | 0x20) != *prefix)
			return 0;
	return 1;
}

/* A letter, digit, '+', '-' or '.': what a URL's scheme is made of (RFC 3986). */
static int scheme_char(unsigned char ch)
{
	return isalnum(ch) || ch == '+' || ch == '-' || ch == '.';
}

/* The first place s holds needle (lowercase), compared ignoring ASCII case, or NULL. */
static char *find_ci(char *s, const char *needle)
{
	for (; *s != '\0'; s++)
		if (starts_ci(s, needle))
			return s;
	return NULL;
}

/*
 * Cuts, in place, every run of URL characters holding a signed query parameter
 * (X-Amz-Signature=, Signature=, X-Amz-Credential=, any case) from its '?' on, or
 * whole when it has none: a URL written so that no scheme:// is seen
 * ("https\u003a//h/x?X-Amz-Signature=...", a bare query) still carries its
 * credential. The cut is at least as long as the parameter's name, longer than
 * the mark put there, so s never grows.
 */
static void scrub_signed(char *s)
{
	static const char *const params[] = { "signature=", "x-amz-credential=", NULL };
	for (size_t p = 0; params[p] != NULL; p++) {
		char *hit;
		while ((hit = find_ci(s, params[p])) != NULL) {
			size_t h = (size_t)(hit - s), b = h, e = h, q;
			while (b > 0 && !url_end((unsigned char)s[b - 1]))
				b--;
			while (s[e] != '\0' && !url_end((unsigned char)s[e]))
				e++;
			for (q = b; q < h && s[q] != '?'; q++)
				;
			const char *mark = q < h ? "?\xe2\x80\xa6" : "\xe2\x80\xa6";
			size_t from = q < h ? q : b, m = strlen(mark);
			memcpy(s + from, mark, m);
			memmove(s + from + m, s + e, strlen(s + e) + 1);
		}
	}
}

/*
 * Rewrites the card text s[0..size) with every scheme:// URL in it (https, s3, gs,
 * any scheme) as url_shown() shows it, then cuts what still holds a signed query:
 * a worker that echoes its presigned result URL in an error or a parameter must
 * not put the credential on a gallery page either.
 */
static void scrub_urls(char *s, size_t size)
{
	if (strstr(s, "://") != NULL) {
		size_t n = strlen(s);
		/* A URL may grow by 3 bytes ("?" becomes "?\u2026"); one takes 5 at least ("a://?"). */
		char *tmp = malloc(2 * n + 8);
		if (tmp == NULL) {
			s[0] = '\0';   /* nothing shown rather than a secret */
			return;
		}
		struct out_text o = { tmp, 2 * n + 8, 0 };
		tmp[0] = '\0';
		for (size_t i = 0; i < n;) {
			/* A run of scheme characters that starts here (not inside one), then "://". */
			size_t j = i;
			if (i == 0 || !scheme_char((unsigned char)s[i - 1]))
				while (j < n && scheme_char((unsigned char)s[j]))
					j++;
			if (j > i && strncmp(s + j, "://", 3) == 0) {
				while (j < n && !url_end((unsigned char)s[j]))
					j++;
				url_shown(&o, s + i, j - i, 1);
				i = j;
			} else {
				j = j > i ? j : i + 1;
				out_put(&o, s + i, j - i);
				i = j;
			}
		}
		copy_cut(s, size, tmp);
		free(tmp);
	}
	scrub_signed(s);
}

static void scrub_card(struct payload_card *c)
{
	scrub_urls(c->id, sizeof c->id);
	scrub_urls(c->status, sizeof c->status);
	scrub_urls(c->outcome, sizeof c->outcome);
	scrub_urls(c->worker, sizeof c->worker);
	scrub_urls(c->error, sizeof c->error);
	scrub_urls(c->warnings, sizeof c->warnings);
	scrub_urls(c->prompt, sizeof c->prompt);
	scrub_urls(c->negative, sizeof c->negative);
	scrub_urls(c->infotext, sizeof c->infotext);
	for (unsigned i = 0; i < c->n_params; i++)
		scrub_urls(c->params[i].value, sizeof c->params[i].value);
	for (unsigned i = 0; i < c->n_images; i++) {
		scrub_urls(c->images[i].rejected, sizeof c->images[i].rejected);
		scrub_urls(c->images[i].link_error, sizeof c->images[i].link_error);
	}
}

/* ---- result links ------------------------------------------------------------------ */

/* A fetch state as fetch.c writes it (payload_fetch.h) to PAYLOAD_LINK_*; NONE when unknown. */
static int link_state(const char *state)
{
	static const char *const names[] = { "pending", "fetched", "rejected", "failed", "refused",
					     "expired" };
	for (size_t i = 0; state != NULL && i < sizeof names / sizeof names[0]; i++)
		if (strcmp(state, names[i]) == 0)
			return PAYLOAD_LINK_PENDING + (int)i;
	return PAYLOAD_LINK_NONE;
}

int payload_card_link_lost(int link)
{
	return link == PAYLOAD_LINK_FAILED || link == PAYLOAD_LINK_REFUSED ||
	       link == PAYLOAD_LINK_EXPIRED;
}

static unsigned small_count(json_object *v)
{
	if (!json_object_is_type(v, json_type_int))
		return 0;
	int64_t n = json_object_get_int64(v);
	return n > 0 && n < 1000000 ? (unsigned)n : 0;
}

/* Follows a dotted path of object keys ("override_settings.sd_model_checkpoint"). */
static json_object *get_path(json_object *o, const char *path)
{
	char key[64];
	while (o != NULL && *path != '\0') {
		size_t n = strcspn(path, ".");
		if (n >= sizeof key)
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = pl_get(o, key);
		path += n + (path[n] == '.');
	}
	return o;
}

/* A scalar as short text: integers, numbers, strings, booleans. 0 when v is none of them. */
static int scalar_text(json_object *v, char *out, size_t size)
{
	if (v == NULL)
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_int:
		snprintf(out, size, "%lld", (long long)json_object_get_int64(v));
		return 1;
	case json_type_double:
		snprintf(out, size, "%g", json_object_get_double(v));
		return 1;
	case json_type_boolean:
		snprintf(out, size, "%s", json_object_get_boolean(v) ? "true" : "false");
		return 1;
	case json_type_string:
		if (json_object_get_string_len(v) == 0)
			return 0;
		copy_cut(out, size, json_object_get_string(v));
		return 1;
	default:
		return 0;
	}
}

static int has_param(const struct payload_card *c, const char *name)
{
	for (unsigned i = 0; i < c->n_params; i++)
		if (strcmp(c->params[i].name, name) == 0)
			return 1;
	return 0;
}

/* Adds name = v unless the card has that parameter already: the first source wins. */
static void card_param(struct payload_card *c, const char *name, json_object *v)
{
	struct payload_card_param *p;
	if (c->n_params >= PAYLOAD_CARD_MAX_PARAMS || has_param(c, name))
		return;
	p = &c->params[c->n_params];
	if (!scalar_text(v, p->value, sizeof p->value))
		return;
	snprintf(p->name, sizeof p->name, "%s", name);
	c->n_params++;
}

/* The first of keys (a NULL-terminated list) whose value in o is a scalar, not a ComfyUI link. */
static json_object *first_of(json_object *o, const char *const *keys)
{
	for (; *keys != NULL; keys++) {
		json_object *v = get_path(o, *keys);
		if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double) ||
		    json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_boolean))
			return v;
	}
	return NULL;
}

static const char *const k_seed[] = { "seed", "noise_seed", NULL };
static const char *const k_steps[] = { "steps", "num_inference_steps", NULL };
static const char *const k_cfg[] = { "cfg_scale", "guidance_scale", "cfg", NULL };
static const char *const k_sampler[] = { "sampler_name", "sampler", NULL };
static const char *const k_scheduler[] = { "scheduler", NULL };
static const char *const k_model[] = { "override_settings.sd_model_checkpoint",
				       "sd_model_checkpoint", "model", "ckpt_name", "unet_name",
				       NULL };
static const char *const k_denoise[] = { "denoising_strength", "strength", "denoise", NULL };

/* Key parameters from an A1111, SDXL-worker or ComfyUI-node style object of inputs. */
static void card_params_from(struct payload_card *c, json_object *o)
{
	json_object *seed = first_of(o, k_seed);
	/* -1 asks for a random seed: the one used is reported elsewhere. */
	if (seed != NULL && !(json_object_is_type(seed, json_type_int) &&
			      json_object_get_int64(seed) < 0))
		card_param(c, "seed", seed);
	card_param(c, "steps", first_of(o, k_steps));
	card_param(c, "cfg", first_of(o, k_cfg));
	card_param(c, "sampler", first_of(o, k_sampler));
	card_param(c, "scheduler", first_of(o, k_scheduler));
	card_param(c, "model", first_of(o, k_model));
	card_param(c, "denoise", first_of(o, k_denoise));
	json_object *w = pl_get(o, "width"), *h = pl_get(o, "height");
	char ws[24], hs[24];
	if (c->n_params < PAYLOAD_CARD_MAX_PARAMS && !has_param(c, "size") &&
	    json_object_is_type(w, json_type_int) &&
	    json_object_is_type(h, json_type_int) && scalar_text(w, ws, sizeof ws) &&
	    scalar_text(h, hs, sizeof hs)) {
		struct payload_card_param *p = &c->params[c->n_params++];
		snprintf(p->name, sizeof p->name, "size");
		snprintf(p->value, sizeof p->value, "%s\xc3\x97%s", ws, hs);
	}
}

static const char *class_type(json_object *node)
{
	const char *t = pl_get_string(node, "class_type");
	return t != NULL ? t : "";
}

/* The text of a ComfyUI text-encode node that a sampler input links to (["6", 0]). */
static const char *comfy_linked_text(json_object *workflow, json_object *link)
{
	if (link == NULL || !json_object_is_type(link, json_type_array) ||
	    json_object_array_length(link) < 1)
		return NULL;
	json_object *id = json_object_array_get_idx(link, 0);
	if (!json_object_is_type(id, json_type_string))
		return NULL;
	json_object *inputs = pl_get(pl_get(workflow, json_object_get_string(id)), "inputs");
	const char *text = pl_get_string(inputs, "text");
	return text != NULL ? text : pl_get_string(inputs, "text_g");
}

/* ComfyUI: the sampler node's settings and the prompts its inputs link to. */
static void card_from_comfy(struct payload_card *c, json_object *workflow)
{
	json_object *sampler = NULL;
	const char *any_text = NULL;
	json_object_object_foreach(workflow, key, node) {
		(void)key;
		const char *ct = class_type(node);
		json_object *inputs = pl_get(node, "inputs");
		if (sampler == NULL &&
		    (strstr(ct, "KSampler") != NULL || strstr(ct, "SamplerCustom") != NULL))
			sampler = inputs;
		if (any_text == NULL && strstr(ct, "CLIPTextEncode") != NULL)
			any_text = pl_get_string(inputs, "text");
		if (strstr(ct, "EmptyLatentImage") != NULL || strstr(ct, "CheckpointLoader") != NULL ||
		    strstr(ct, "UNETLoader") != NULL)
			card_params_from(c, inputs);
	}
	const char *pos = sampler ? comfy_linked_text(workflow, pl_get(sampler, "positive")) : NULL;
	const char *neg = sampler ? comfy_linked_text(workflow, pl_get(sampler, "negative")) : NULL;
	if (pos == NULL)
		pos = any_text;
	if (pos != NULL && c->prompt[0] == '\0')
		copy_cut(c->prompt, sizeof c->prompt, pos);
	if (neg != NULL && c->negative[0] == '\0')
		copy_cut(c->negative, sizeof c->negative, neg);
	if (sampler != NULL)
		card_params_from(c, sampler);
}

/* A1111's output.info: infotexts, the seeds used and the model. */
static void card_from_info(struct payload_card *c, json_object *info)
{
	json_object *texts = pl_get(info, "infotexts");
	json_object *seeds = pl_get(info, "all_seeds");
	if (texts != NULL && json_object_is_type(texts, json_type_array) &&
	    json_object_array_length(texts) > 0) {
		json_object *t = json_object_array_get_idx(texts, 0);
		if (json_object_is_type(t, json_type_string))
			copy_cut(c->infotext, sizeof c->infotext, json_object_get_string(t));
	}
	if (seeds != NULL && json_object_is_type(seeds, json_type_array) &&
	    json_object_array_length(seeds) > 0)
		card_param(c, "seed", json_object_array_get_idx(seeds, 0));
	card_param(c, "seed", pl_get(info, "seed"));
	card_param(c, "model", pl_get(info, "sd_model_name"));
}

/* When nothing named the prompt, A1111's infotext starts with it. */
static void prompt_from_infotext(struct payload_card *c)
{
	static const char *const ends[] = { "\nNegative prompt: ", "\nSteps: " };
	size_t n = strlen(c->infotext);
	if (c->prompt[0] != '\0' || n == 0)
		return;
	for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
		const char *e = strstr(c->infotext, ends[i]);
		if (e != NULL && (size_t)(e - c->infotext) < n)
			n = (size_t)(e - c->infotext);
	}
	if (n >= sizeof c->prompt)
		n = sizeof c->prompt - 1;
	memcpy(c->prompt, c->infotext, n);
	c->prompt[n] = '\0';
}

/* Puts the parameters in the order people read them in, whichever source gave them. */
static void sort_params(struct payload_card *c)
{
	static const char *const order[] = { "seed", "size", "steps", "cfg", "sampler",
					     "scheduler", "denoise", "model" };
	struct payload_card_param sorted[PAYLOAD_CARD_MAX_PARAMS];
	unsigned n = 0;
	for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
		for (unsigned i = 0; i < c->n_params; i++)
			if (strcmp(c->params[i].name, order[k]) == 0)
				sorted[n++] = c->params[i];
	memcpy(c->params, sorted, n * sizeof sorted[0]);
	c->n_params = n;
}

static void card_images(struct payload_card *c, json_object *list)
{
	const char *s;
	size_t n = list != NULL && json_object_is_type(list, json_type_array)
			   ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(list, i);
		if (pl_get(d, "same_as") != NULL)
			continue;   /* the same file as an earlier entry */
		if (c->n_images >= PAYLOAD_CARD_MAX_IMAGES) {
			c->more_images++;
			continue;
		}
		struct payload_card_image *im = &c->images[c->n_images];
		const char *file = pl_get_string(d, "file"), *url = pl_get_string(d, "url");
		const char *role = pl_get_string(d, "role"), *fmt = pl_get_string(d, "format");
		const char *rej = pl_get_string(d, "rejected");
		json_object *w = pl_get(d, "width"), *h = pl_get(d, "height");
		if (file == NULL && url == NULL)
			continue;
		copy_cut(im->file, sizeof im->file, file ? file : "");
		if (url != NULL)
			link_shown(im->url, sizeof im->url, url);
		copy_cut(im->where, sizeof im->where, (s = pl_get_string(d, "where")) ? s : "");
		copy_cut(im->format, sizeof im->format, fmt ? fmt : "");
		copy_cut(im->rejected, sizeof im->rejected, rej ? rej : "");
		/* What `imagehook fetch` wrote of a link (payload_record_fetched()). */
		im->link = url != NULL ? link_state(pl_get_string(d, "fetch")) : PAYLOAD_LINK_NONE;
		im->link_attempts = small_count(pl_get(d, "fetch_attempts"));
		if ((s = pl_get_string(d, "fetch_error")) != NULL)
			copy_cut(im->link_error, sizeof im->link_error, s);
		if (payload_card_link_lost(im->link)) {
			/* Not an image that was rejected: a result never fetched, shown as such. */
			if (im->link_error[0] == '\0')
				copy_cut(im->link_error, sizeof im->link_error, rej ? rej : "");
			im->rejected[0] = '\0';
		}
		im->input = role != NULL && strcmp(role, "input") == 0;
		json_object *video = pl_get(d, "video"), *dur = pl_get(d, "duration_ms");
		im->video = rej == NULL && (json_object_is_type(video, json_type_boolean)
						    ? json_object_get_boolean(video)
						    : payload_format_is_video(fmt));
		if (json_object_is_type(dur, json_type_int) && json_object_get_int64(dur) > 0)
			im->duration_ms = (uint64_t)json_object_get_int64(dur);
		if (json_object_is_type(w, json_type_int) && json_object_is_type(h, json_type_int)) {
			int64_t wv = json_object_get_int64(w), hv = json_object_get_int64(h);
			if (wv > 0 && hv > 0 && wv <= UINT32_MAX && hv <= UINT32_MAX) {
				im->width = (uint32_t)wv;
				im->height = (uint32_t)hv;
			}
		}
		c->n_images++;
	}
}

int payload_card_parse(const char *text, size_t len, struct payload_card *c)
{
	memset(c, 0, sizeof *c);
	json_object *root;
	int rc = pl_parse_object(text, len, 64, 0, &root);
	if (rc != IH_OK)
		return rc;
	json_object *ih = pl_get(root, "imagehook");
	if (ih == NULL || !json_object_is_type(ih, json_type_object)) {
		json_object_put(root);
		return IH_ERR_NOT_JSON;
	}
	const char *s;
	/* A derived id and an assumed status are in the imagehook object. */
	if ((s = pl_get_string(root, "id")) == NULL)
		s = pl_get_string(ih, "id");
	if (s == NULL)
		s = pl_get_string(root, "request_id");   /* fal.ai */
	copy_cut(c->id, sizeof c->id, s ? s : "");
	if ((s = pl_get_string(root, "status")) == NULL)
		s = pl_get_string(ih, "status_assumed");
	copy_cut(c->status, sizeof c->status, s ? s : "UNKNOWN");
	copy_cut(c->outcome, sizeof c->outcome, (s = pl_get_string(ih, "outcome")) ? s : "");
	copy_cut(c->received, sizeof c->received, (s = pl_get_string(ih, "received")) ? s : "");
	copy_cut(c->worker, sizeof c->worker, (s = pl_get_string(root, "workerId")) ? s : "");
	copy_cut(c->error, sizeof c->error, (s = pl_get_string(ih, "error")) ? s : "");
	copy_cut(c->warnings, sizeof c->warnings, (s = pl_get_string(ih, "warnings")) ? s : "");
	json_object *lost = pl_get(ih, "result_lost_upstream");
	c->lost_upstream = (lost != NULL && json_object_get_boolean(lost)) ||
			   strcmp(c->outcome, "lost_upstream") == 0;
	json_object *v = pl_get(root, "delayTime");
	c->has_delay = json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
	c->delay_ms = c->has_delay ? json_object_get_int64(v) : 0;
	v = pl_get(root, "executionTime");
	c->has_exec = json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
	c->exec_ms = c->has_exec ? json_object_get_int64(v) : 0;

	/* The request: A1111 input.payload, its echo output.parameters, the SDXL worker's input. */
	json_object *input = pl_get(root, "input"), *output = pl_get(root, "output");
	json_object *sources[] = { pl_get(input, "payload"), pl_get(output, "parameters"), input };
	for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
		json_object *o = sources[i];
		if (o == NULL || !json_object_is_type(o, json_type_object))
			continue;
		if (c->prompt[0] == '\0' && (s = pl_get_string(o, "prompt")) != NULL)
			copy_cut(c->prompt, sizeof c->prompt, s);
		if (c->negative[0] == '\0' && (s = pl_get_string(o, "negative_prompt")) != NULL)
			copy_cut(c->negative, sizeof c->negative, s);
		card_params_from(c, o);
	}
	json_object *workflow = pl_get(input, "workflow");
	if (workflow != NULL && json_object_is_type(workflow, json_type_object))
		card_from_comfy(c, workflow);
	card_param(c, "seed", pl_get(output, "seed"));
	const char *info = pl_get_string(output, "info");
	if (info != NULL) {
		json_object *io;
		if (pl_parse_object(info, strlen(info), 64, 0, &io) == IH_OK) {
			card_from_info(c, io);
			json_object_put(io);
		}
	}
	prompt_from_infotext(c);
	sort_params(c);
	card_images(c, pl_get(ih, "images"));
	scrub_card(c);
	json_object_put(root);
	return IH_OK;
}

int payload_card_add_links(struct payload_card *c, const char *text, size_t len)
{
	json_object *root;
	int rc = pl_parse_object(text, len, 16, 0, &root);
	if (rc != IH_OK)
		return rc;
	json_object *list = pl_get(root, "links");
	if (!json_object_is_type(list, json_type_array)) {
		json_object_put(root);
		return IH_ERR_NOT_JSON;
	}
	size_t n = json_object_array_length(list);
	char shown[sizeof c->images[0].url], where[sizeof c->images[0].where];
	for (size_t k = 0; k < n; k++) {
		json_object *l = json_object_array_get_idx(list, k);
		const char *url = pl_get_string(l, "url"), *w = pl_get_string(l, "where");
		if (url == NULL || w == NULL)
			continue;
		link_shown(shown, sizeof shown, url);
		copy_cut(where, sizeof where, w);
		for (unsigned i = 0; i < c->n_images; i++) {
			struct payload_card_image *im = &c->images[i];
			if (im->url[0] == '\0' || strcmp(im->url, shown) != 0 || strcmp(im->where, where) != 0)
				continue;
			json_object *e = pl_get(l, "expires");
			if (json_object_is_type(e, json_type_int) && json_object_get_int64(e) > 0)
				im->link_expires = json_object_get_int64(e);
			/*
			 * job.json has the state once a first attempt was made, with the file;
			 * before that, only fetch.json knows the link is queued. A stored file
			 * is taken from job.json only, so only the states without one are.
			 */
			int st = link_state(pl_get_string(l, "state"));
			if (im->link != PAYLOAD_LINK_NONE ||
			    (st != PAYLOAD_LINK_PENDING && !payload_card_link_lost(st)))
				continue;
			im->link = st;
			im->link_attempts = small_count(pl_get(l, "attempts"));
			const char *why = pl_get_string(l, "error");
			copy_cut(im->link_error, sizeof im->link_error, why ? why : "");
			scrub_urls(im->link_error, sizeof im->link_error);
			if (payload_card_link_lost(st))
				im->rejected[0] = '\0';
		}
	}
	json_object_put(root);
	return IH_OK;
}

/* Copies a string member into out (cut), or leaves out empty. */
static void copy_member(json_object *o, const char *key, char *out, size_t size)
{
	const char *s = pl_get_string(o, key);
	out[0] = '\0';
	if (s != NULL)
		copy_cut(out, size, s);
}

static uint64_t member_u64(json_object *o, const char *key)
{
	json_object *v = pl_get(o, key);
	if (!json_object_is_type(v, json_type_int))
		return 0;
	int64_t n = json_object_get_int64(v);
	return n > 0 ? (uint64_t)n : 0;
}

int payload_log_line_parse(const char *line, size_t len, struct payload_log_entry *e)
{
	memset(e, 0, sizeof *e);
	json_object *o;
	/* One object per line, nothing after it. */
	int rc = pl_parse_object(line, len, 16, 1, &o);
	if (rc != IH_OK)
		return rc;
	copy_member(o, "time", e->time, sizeof e->time);
	copy_member(o, "outcome", e->outcome, sizeof e->outcome);
	copy_member(o, "status", e->status, sizeof e->status);
	uint64_t http = member_u64(o, "http");
	e->http = http < 1000 ? (int)http : 0;
	e->images_stored = (unsigned)member_u64(o, "images_stored");
	e->images_rejected = (unsigned)member_u64(o, "images_rejected");
	e->images_remote = (unsigned)member_u64(o, "images_remote");
	e->inputs_stored = (unsigned)member_u64(o, "inputs_stored");
	e->bytes = member_u64(o, "bytes");
	json_object *ms = pl_get(o, "ms");
	if ((e->has_ms = json_object_is_type(ms, json_type_int)))
		e->ms = member_u64(o, "ms");
	json_object_put(o);
	return e->time[0] != '\0' ? IH_OK : IH_ERR_NOT_JSON;
}
