/*
 * The webhook tests' receiver (receiver.h): one thread, one connection at
 * a time (the server sends a delivery at a time per worker anyway), every
 * request recorded before it is answered, so a test that saw the Nth
 * request knows the server got no answer to it yet. Answers always close
 * the connection (no keep-alive to reason about).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "receiver.h"

#define RCV_REQ_MAX	(2 * 1024 * 1024)
#define RCV_READ_MS	5000
#define RCV_HANG_MAX	64

struct receiver {
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	int			 lfd;
	int			 stop[2];	/* a pipe: write to stop */
	char			*script;
	int			 step;		/* entries of the script used */
	struct rcv_request	**reqs;
	int			 nreqs;
	int			 hang[RCV_HANG_MAX];
	int			 nhang;
};

static long long
rcv_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Entry N of SCRIPT (the last repeats) into OUT. */
static void
rcv_entry(const char *script, int n, char *out, size_t len)
{
	const char	*s = script, *e;
	size_t		 k;

	for (;;) {
		e = strchr(s, ',');
		if (n == 0 || e == NULL)
			break;
		s = e + 1;
		n--;
	}
	k = e != NULL ? (size_t)(e - s) : strlen(s);
	if (k >= len)
		k = len - 1;
	memcpy(out, s, k);
	out[k] = '\0';
}

/* Reads one request from FD; NULL when it is cut short or too large. */
static struct rcv_request *
rcv_read(int fd)
{
	struct rcv_request	*r;
	struct pollfd		 pfd;
	char			*buf, *end, *line, *next, *colon;
	size_t			 len = 0, cap = 65536, need = 0, hlen = 0;
	ssize_t			 n;
	long long		 deadline = rcv_now_ms() + RCV_READ_MS;

	if ((buf = malloc(cap + 1)) == NULL)
		return NULL;
	for (;;) {
		if (hlen == 0 && (end = memmem(buf, len, "\r\n\r\n", 4)) !=
		    NULL) {
			hlen = (size_t)(end - buf) + 4;
			buf[hlen - 2] = '\0';
			line = strcasestr(buf, "\r\ncontent-length:");
			need = hlen + (line != NULL ? strtoul(line + 17, NULL,
			    10) : 0);
			if (need > RCV_REQ_MAX)
				break;
		}
		if (hlen != 0 && len >= need)
			goto parse;
		if (len == cap) {
			if (cap >= RCV_REQ_MAX)
				break;
			cap *= 2;
			if ((end = realloc(buf, cap + 1)) == NULL)
				break;
			buf = end;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (rcv_now_ms() >= deadline || poll(&pfd, 1, (int)(deadline -
		    rcv_now_ms())) <= 0)
			break;
		if ((n = read(fd, buf + len, cap - len)) <= 0)
			break;
		len += (size_t)n;
	}
	free(buf);
	return NULL;
parse:
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		free(buf);
		return NULL;
	}
	r->at_ms = rcv_now_ms();
	r->body_len = need - hlen;
	r->body = malloc(r->body_len + 1);
	memcpy(r->body, buf + hlen, r->body_len);
	r->body[r->body_len] = '\0';
	/* Request line, then "Name: value" lines. */
	line = buf;
	next = strstr(line, "\r\n");
	if (next != NULL)
		*next = '\0';
	sscanf(line, "%15s %511s", r->method, r->path);
	while (next != NULL && r->nhdr < RCV_MAX_HEADERS) {
		line = next + 2;
		if ((next = strstr(line, "\r\n")) != NULL)
			*next = '\0';
		if ((colon = strchr(line, ':')) == NULL)
			continue;
		*colon = '\0';
		for (colon++; *colon == ' ' || *colon == '\t'; colon++)
			;
		r->hdr_name[r->nhdr] = strdup(line);
		r->hdr_value[r->nhdr] = strdup(colon);
		r->nhdr++;
	}
	free(buf);
	return r;
}

static void
rcv_answer(int fd, int status)
{
	char	out[160];
	int	n;

	n = snprintf(out, sizeof(out), "HTTP/1.1 %d Scripted\r\n"
	    "Content-Type: text/plain\r\nContent-Length: 7\r\n"
	    "Connection: close\r\n\r\nstatus\n", status);
	if (write(fd, out, (size_t)n) < 0) {
		/* The client gave up; its attempt fails on its side. */
	}
}

static void
rcv_serve(struct receiver *rc, int fd)
{
	struct rcv_request	*r, **grown;
	char			 entry[32];

	if ((r = rcv_read(fd)) == NULL) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&rc->lock);
	rcv_entry(rc->script, rc->step++, entry, sizeof(entry));
	grown = realloc(rc->reqs, (size_t)(rc->nreqs + 1) * sizeof(*grown));
	if (grown != NULL) {
		rc->reqs = grown;
		rc->reqs[rc->nreqs++] = r;
	}
	pthread_cond_broadcast(&rc->cond);
	pthread_mutex_unlock(&rc->lock);
	if (strcmp(entry, "hang") == 0 && rc->nhang < RCV_HANG_MAX) {
		rc->hang[rc->nhang++] = fd;
		return;
	}
	if (strcmp(entry, "close") != 0)
		rcv_answer(fd, atoi(entry) > 0 ? atoi(entry) : 200);
	close(fd);
}

static void *
rcv_main(void *arg)
{
	struct receiver	*rc = arg;
	struct pollfd	 pfd[2];
	int		 fd;

	pfd[0].fd = rc->lfd;
	pfd[0].events = POLLIN;
	pfd[1].fd = rc->stop[0];
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if ((pfd[0].revents & POLLIN) &&
		    (fd = accept(rc->lfd, NULL, NULL)) >= 0)
			rcv_serve(rc, fd);
	}
	return NULL;
}

struct receiver *
receiver_start(int port, const char *script)
{
	struct receiver		*rc;
	struct sockaddr_in	 sin;
	int			 on = 1;

	rc = calloc(1, sizeof(*rc));
	ck_assert_ptr_nonnull(rc);
	pthread_mutex_init(&rc->lock, NULL);
	pthread_cond_init(&rc->cond, NULL);
	rc->script = strdup(script);
	rc->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(rc->lfd, 0);
	setsockopt(rc->lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(bind(rc->lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "receiver: cannot bind 127.0.0.1:%d: %s", port, strerror(errno));
	ck_assert_int_eq(listen(rc->lfd, 64), 0);
	ck_assert_int_eq(pipe(rc->stop), 0);
	ck_assert_int_eq(pthread_create(&rc->thread, NULL, rcv_main, rc), 0);
	return rc;
}

void
receiver_script(struct receiver *rc, const char *script)
{
	pthread_mutex_lock(&rc->lock);
	free(rc->script);
	rc->script = strdup(script);
	rc->step = 0;
	pthread_mutex_unlock(&rc->lock);
}

static int
rcv_match(const struct rcv_request *r, const char *path)
{
	return path == NULL || strcmp(r->path, path) == 0;
}

static int
rcv_count_locked(struct receiver *rc, const char *path)
{
	int	i, n = 0;

	for (i = 0; i < rc->nreqs; i++)
		n += rcv_match(rc->reqs[i], path);
	return n;
}

int
receiver_count(struct receiver *rc, const char *path)
{
	int	n;

	pthread_mutex_lock(&rc->lock);
	n = rcv_count_locked(rc, path);
	pthread_mutex_unlock(&rc->lock);
	return n;
}

int
receiver_wait(struct receiver *rc, const char *path, int n, int timeout_ms)
{
	struct timespec	ts;
	int		got;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&rc->lock);
	while ((got = rcv_count_locked(rc, path)) < n)
		if (pthread_cond_timedwait(&rc->cond, &rc->lock, &ts) ==
		    ETIMEDOUT) {
			got = rcv_count_locked(rc, path);
			break;
		}
	pthread_mutex_unlock(&rc->lock);
	return got;
}

const struct rcv_request *
receiver_get(struct receiver *rc, const char *path, int i)
{
	const struct rcv_request	*r = NULL;
	int				 k;

	pthread_mutex_lock(&rc->lock);
	for (k = 0; k < rc->nreqs; k++)
		if (rcv_match(rc->reqs[k], path) && i-- == 0) {
			r = rc->reqs[k];
			break;
		}
	pthread_mutex_unlock(&rc->lock);
	return r;
}

const char *
rcv_header(const struct rcv_request *r, const char *name)
{
	int	i;

	for (i = 0; i < r->nhdr; i++)
		if (strcasecmp(r->hdr_name[i], name) == 0)
			return r->hdr_value[i];
	return NULL;
}

void
receiver_stop(struct receiver *rc)
{
	int	i, k;

	if (write(rc->stop[1], "x", 1) != 1) {
		/* The pipe is ours and empty: cannot happen. */
	}
	pthread_join(rc->thread, NULL);
	close(rc->stop[0]);
	close(rc->stop[1]);
	close(rc->lfd);
	for (i = 0; i < rc->nhang; i++)
		close(rc->hang[i]);
	for (i = 0; i < rc->nreqs; i++) {
		for (k = 0; k < rc->reqs[i]->nhdr; k++) {
			free(rc->reqs[i]->hdr_name[k]);
			free(rc->reqs[i]->hdr_value[k]);
		}
		free(rc->reqs[i]->body);
		free(rc->reqs[i]);
	}
	free(rc->reqs);
	free(rc->script);
	pthread_mutex_destroy(&rc->lock);
	pthread_cond_destroy(&rc->cond);
	free(rc);
}
