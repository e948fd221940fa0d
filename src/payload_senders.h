/* payload_senders.h - Replicate and fal.ai bodies; for the payload family only (json-c types). */
#ifndef IH_PAYLOAD_SENDERS_H
#define IH_PAYLOAD_SENDERS_H

#include <stddef.h>

#include <json-c/json.h>

enum payload_sender {
	PAYLOAD_SENDER_RUNPOD = 0,   /* RunPod and anything else: {id, status, output, ...} */
	PAYLOAD_SENDER_REPLICATE,    /* a prediction: {id, version|model, status: succeeded, ...} */
	PAYLOAD_SENDER_FAL           /* {request_id, status: OK|ERROR, payload, error, ...} */
};

/* What a sender's own shape says, mapped to the RunPod vocabulary the pipeline knows. */
struct payload_sender_info {
	enum payload_sender sender;
	json_object *id;             /* the string value that is the job's id (borrowed) */
	const char *status;          /* COMPLETED, FAILED, CANCELLED or PROCESSING (static) */
	json_object *output;         /* where the results are: output, fal's payload; may be NULL */
	const char *error;           /* the error when the body has no "error" of its own, or NULL */
};

/*
 * Recognises a Replicate prediction or a fal.ai result by its shape and fills *si;
 * returns the sender (PAYLOAD_SENDER_RUNPOD leaves *si zeroed). Borrows root.
 */
enum payload_sender payload_sender_detect(json_object *root, struct payload_sender_info *si);

/* Called for each result link found: the string value v, held by parent at index or key. */
typedef int (*payload_link_fn)(void *ctx, json_object *v, json_object *parent, size_t index,
			       const char *key, const char *where);

/*
 * Calls add for every result link of a detected sender: Replicate's output (a URL,
 * a list of URLs, or URLs inside an object), fal's payload file objects
 * ({url, content_type} anywhere: images[], image, video, audio, ...). Stops at
 * the first error add returns. Borrows everything.
 */
int payload_sender_links(const struct payload_sender_info *si, payload_link_fn add, void *ctx);

/* The static name of a sender, as the record and the fetch queue write it. */
const char *payload_sender_name(enum payload_sender s);

#endif
