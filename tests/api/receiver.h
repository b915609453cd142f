/*
 * A small HTTP receiver for the webhook tests: a thread of the test
 * process listening on 127.0.0.1:PORT that records every request (method,
 * path, headers, body, arrival time) and answers it by a script.
 */
#ifndef BILLOW_TESTS_API_RECEIVER_H
#define BILLOW_TESTS_API_RECEIVER_H

#include <stddef.h>

#define RCV_MAX_HEADERS	48

struct rcv_request {
	char		 method[16];
	char		 path[512];
	char		*hdr_name[RCV_MAX_HEADERS];
	char		*hdr_value[RCV_MAX_HEADERS];
	int		 nhdr;
	char		*body;		/* NUL-terminated */
	size_t		 body_len;
	long long	 at_ms;		/* monotonic clock */
};

struct receiver;

/*
 * Starts listening on 127.0.0.1:PORT (fails the test if it cannot).
 * SCRIPT is a comma-separated list, one entry per request, the last one
 * repeating: a status ("500") answers it with that status, "hang" never
 * answers (the connection stays open until receiver_stop), "close"
 * closes the connection without an answer. "500,500,200": two failures,
 * then success for ever.
 */
struct receiver	*receiver_start(int port, const char *script);
/* Replaces the script; the next request takes its first entry. */
void		 receiver_script(struct receiver *, const char *script);
/* Requests so far whose path is PATH (NULL: all). */
int		 receiver_count(struct receiver *, const char *path);
/*
 * Waits until at least N requests for PATH (NULL: any) arrived, or
 * TIMEOUT_MS passed; returns how many there are.
 */
int		 receiver_wait(struct receiver *, const char *path, int n,
		    int timeout_ms);
/*
 * The I-th request (0 the first) for PATH (NULL: any), or NULL; valid
 * until receiver_stop.
 */
const struct rcv_request *receiver_get(struct receiver *, const char *path,
		    int i);
/* A header of REQ by case-insensitive name, or NULL. */
const char	*rcv_header(const struct rcv_request *, const char *name);
/* Stops the thread, closes every connection, frees everything. */
void		 receiver_stop(struct receiver *);

#endif
