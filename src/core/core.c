/*
 * Core utilities: aborting allocators, buffers, arenas, logging, time,
 * constant-time comparison and randomness. Runs in every Billow process
 * and on any thread; the log sink is set once at start-up.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core.h"

static void	bw_oom(void) __attribute__((noreturn));

static void
bw_oom(void)
{
	fputs("billow: out of memory\n", stderr);
	abort();
}

void *
bw_malloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		bw_oom();
	return p;
}

void *
bw_calloc(size_t n, size_t sz)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, sz == 0 ? 1 : sz)) == NULL)
		bw_oom();
	return p;
}

void *
bw_realloc(void *p, size_t n)
{
	if ((p = realloc(p, n == 0 ? 1 : n)) == NULL)
		bw_oom();
	return p;
}

char *
bw_strdup(const char *s)
{
	return bw_strndup(s, strlen(s));
}

char *
bw_strndup(const char *s, size_t n)
{
	char	*p;

	p = bw_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
bw_asprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) == -1)
		bw_oom();
	va_end(ap);
	return p;
}

void
bw_buf_init(struct bw_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
bw_buf_free(struct bw_buf *b)
{
	free(b->data);
	bw_buf_init(b);
}

void
bw_buf_reset(struct bw_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
buf_grow(struct bw_buf *b, size_t more)
{
	size_t	need;

	need = b->len + more + 1;
	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 256;
	while (b->cap < need)
		b->cap *= 2;
	b->data = bw_realloc(b->data, b->cap);
}

void
bw_buf_append(struct bw_buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
bw_buf_appends(struct bw_buf *b, const char *s)
{
	bw_buf_append(b, s, strlen(s));
}

void
bw_buf_appendf(struct bw_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*p;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		bw_oom();
	bw_buf_append(b, p, (size_t)n);
	free(p);
}

char *
bw_buf_release(struct bw_buf *b)
{
	char	*p;

	if (b->data == NULL)
		return bw_strdup("");
	p = b->data;
	bw_buf_init(b);
	return p;
}

/* Arena blocks: a header followed by the memory handed out. */
struct bw_arena_block {
	struct bw_arena_block	*next;
	size_t			 used;
	size_t			 size;
	max_align_t		 data[];
};

#define ARENA_BLOCK	8192

void
bw_arena_init(struct bw_arena *a)
{
	a->head = NULL;
}

void *
bw_arena_alloc(struct bw_arena *a, size_t n)
{
	struct bw_arena_block	*b;
	size_t			 align, size;
	void			*p;

	align = sizeof(max_align_t);
	n = (n + align - 1) & ~(align - 1);
	if (n == 0)
		n = align;
	b = a->head;
	if (b == NULL || b->size - b->used < n) {
		size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		b = bw_malloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

char *
bw_arena_strndup(struct bw_arena *a, const char *s, size_t n)
{
	char	*p;

	p = bw_arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
bw_arena_strdup(struct bw_arena *a, const char *s)
{
	return bw_arena_strndup(a, s, strlen(s));
}

char *
bw_arena_printf(struct bw_arena *a, const char *fmt, ...)
{
	va_list	 ap;
	char	*tmp, *p;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		bw_oom();
	p = bw_arena_strndup(a, tmp, (size_t)n);
	free(tmp);
	return p;
}

void
bw_arena_free(struct bw_arena *a)
{
	struct bw_arena_block	*b, *next;

	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}

static enum bw_log_level	log_level = BW_LOG_INFO;
static void			(*log_sink)(enum bw_log_level, const char *);

void
bw_log_set_level(enum bw_log_level l)
{
	log_level = l;
}

void
bw_log_set_sink(void (*sink)(enum bw_log_level, const char *))
{
	log_sink = sink;
}

void
bw_logv(enum bw_log_level l, const char *fmt, va_list ap)
{
	static const char	*names[] = { "debug", "info", "warn", "error" };
	char			 line[2048];
	struct timeval		 tv;
	struct tm		 tm;
	char			 ts[32];

	if (l < log_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_sink != NULL) {
		log_sink(l, line);
		return;
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ billow[%s] %s\n", ts,
	    (long)(tv.tv_usec / 1000), names[l], line);
}

void
bw_log(enum bw_log_level l, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	bw_logv(l, fmt, ap);
	va_end(ap);
}

int64_t
bw_time_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
bw_mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
bw_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void
bw_random_bytes(void *p, size_t n)
{
	if (RAND_bytes(p, (int)n) != 1) {
		fputs("billow: no randomness available\n", stderr);
		abort();
	}
}
