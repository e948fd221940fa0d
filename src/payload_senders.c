/* payload_senders.c - recognise Replicate and fal.ai callbacks and find their result links. */
#include "ih_config.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ih_error.h"
#include "payload_senders.h"

static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static const char *member_string(json_object *o, const char *key)
{
	json_object *v = member(o, key);
	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Replicate's statuses (all lower case, unlike RunPod's) and what they mean here. */
static const struct {
	const char *name, *mapped, *error;
} replicate_status[] = {
	{ "starting", "PROCESSING", NULL },
	{ "processing", "PROCESSING", NULL },
	{ "succeeded", "COMPLETED", NULL },
	{ "failed", "FAILED", NULL },
	{ "canceled", "CANCELLED", NULL },
	/* Terminated before it ran (a deadline, for one): nothing was made. */
	{ "aborted", "CANCELLED", "aborted by Replicate before it ran" },
};

enum payload_sender payload_sender_detect(json_object *root, struct payload_sender_info *si)
{
	memset(si, 0, sizeof *si);
	const char *status = member_string(root, "status");
	json_object *id = member(root, "id");
	if (status != NULL && json_object_is_type(id, json_type_string) &&
	    (member(root, "version") != NULL || member(root, "model") != NULL ||
	     member(root, "urls") != NULL)) {
		for (size_t i = 0; i < sizeof replicate_status / sizeof replicate_status[0]; i++) {
			if (strcmp(status, replicate_status[i].name) != 0)
				continue;
			si->sender = PAYLOAD_SENDER_REPLICATE;
			si->id = id;
			si->status = replicate_status[i].mapped;
			si->error = replicate_status[i].error;
			si->output = member(root, "output");
			return si->sender;
		}
	}
	json_object *rid = member(root, "request_id");
	if (status != NULL && id == NULL && json_object_is_type(rid, json_type_string) &&
	    (strcmp(status, "OK") == 0 || strcmp(status, "ERROR") == 0)) {
		si->sender = PAYLOAD_SENDER_FAL;
		si->id = rid;
		si->status = strcmp(status, "OK") == 0 ? "COMPLETED" : "FAILED";
		si->output = member(root, "payload");
		/* The result could not be serialised: fal says why instead of sending it. */
		if (si->output == NULL || json_object_is_type(si->output, json_type_null))
			si->error = member_string(root, "payload_error");
		return si->sender;
	}
	return PAYLOAD_SENDER_RUNPOD;
}

static int is_link(const char *s)
{
	return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

/* Links in a Replicate output: a URL, or URLs at any depth of arrays and objects. */
static int replicate_walk(json_object *o, json_object *parent, size_t index, const char *key,
			  char *where, size_t wsz, int depth, payload_link_fn add, void *ctx)
{
	size_t base = strlen(where);
	int rc = IH_OK;
	if (depth > 16)
		return IH_OK;
	if (json_object_is_type(o, json_type_string)) {
		if (is_link(json_object_get_string(o)))
			rc = add(ctx, o, parent, index, key, where);
	} else if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n && rc == IH_OK; i++) {
			snprintf(where + base, wsz - base, "[%lu]", (unsigned long)i);
			rc = replicate_walk(json_object_array_get_idx(o, i), o, i, NULL, where, wsz,
					    depth + 1, add, ctx);
			where[base] = '\0';
		}
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			snprintf(where + base, wsz - base, ".%s", k);
			rc = replicate_walk(v, o, 0, k, where, wsz, depth + 1, add, ctx);
			where[base] = '\0';
			if (rc != IH_OK)
				break;
		}
	}
	return rc;
}

/* fal file objects: {url, content_type?, file_name?, ...} anywhere below payload. */
static int fal_walk(json_object *o, char *where, size_t wsz, int depth, payload_link_fn add,
		    void *ctx)
{
	size_t base = strlen(where);
	int rc = IH_OK;
	if (depth > 16)
		return IH_OK;
	if (json_object_is_type(o, json_type_array)) {
		size_t n = json_object_array_length(o);
		for (size_t i = 0; i < n && rc == IH_OK; i++) {
			snprintf(where + base, wsz - base, "[%lu]", (unsigned long)i);
			rc = fal_walk(json_object_array_get_idx(o, i), where, wsz, depth + 1, add, ctx);
			where[base] = '\0';
		}
	} else if (json_object_is_type(o, json_type_object)) {
		json_object *url = member(o, "url");
		if (json_object_is_type(url, json_type_string) && is_link(json_object_get_string(url))) {
			snprintf(where + base, wsz - base, ".url");
			rc = add(ctx, url, o, 0, "url", where);
			where[base] = '\0';
			return rc;
		}
		json_object_object_foreach(o, k, v) {
			snprintf(where + base, wsz - base, ".%s", k);
			rc = fal_walk(v, where, wsz, depth + 1, add, ctx);
			where[base] = '\0';
			if (rc != IH_OK)
				break;
		}
	}
	return rc;
}

int payload_sender_links(const struct payload_sender_info *si, payload_link_fn add, void *ctx)
{
	char where[96];
	/* A progress event's partial output is fetched from the final event instead. */
	if (si->output == NULL || strcmp(si->status, "PROCESSING") == 0)
		return IH_OK;
	if (si->sender == PAYLOAD_SENDER_REPLICATE) {
		snprintf(where, sizeof where, "output");
		return replicate_walk(si->output, NULL, 0, NULL, where, sizeof where, 0, add, ctx);
	}
	if (si->sender == PAYLOAD_SENDER_FAL) {
		snprintf(where, sizeof where, "payload");
		return fal_walk(si->output, where, sizeof where, 0, add, ctx);
	}
	return IH_OK;
}

const char *payload_sender_name(enum payload_sender s)
{
	switch (s) {
	case PAYLOAD_SENDER_REPLICATE:
		return "replicate";
	case PAYLOAD_SENDER_FAL:
		return "fal";
	default:
		return "runpod";
	}
}
