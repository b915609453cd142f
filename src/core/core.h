/*
 * Core utilities shared by every Billow process: result codes, memory that
 * aborts on exhaustion, growable buffers, request arenas and logging.
 * Used by the parent, the Kore workers (event loop and task threads) and
 * `billow worker`; nothing here touches the network or the database.
 */
#ifndef BW_CORE_H
#define BW_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* One protocol for results (STYLE.md): the same codes everywhere. */
#define BW_OK		0
#define BW_ERROR	-1
#define BW_DECLINED	-5

#define BW_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Allocation that never returns NULL: out of memory aborts the process. */
void	*bw_malloc(size_t);
void	*bw_calloc(size_t, size_t);
void	*bw_realloc(void *, size_t);
char	*bw_strdup(const char *);
char	*bw_strndup(const char *, size_t);
/* Formatted allocation; the caller frees the result with free(). */
char	*bw_asprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated after its data. */
struct bw_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	 bw_buf_init(struct bw_buf *);
void	 bw_buf_free(struct bw_buf *);
void	 bw_buf_reset(struct bw_buf *);
void	 bw_buf_append(struct bw_buf *, const void *, size_t);
void	 bw_buf_appends(struct bw_buf *, const char *);
void	 bw_buf_appendf(struct bw_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Hands the data to the caller (who frees it) and leaves the buffer empty. */
char	*bw_buf_release(struct bw_buf *);

/*
 * A request arena: many small allocations freed together when the request
 * completes (nginx pools). Memory from it must not outlive the request.
 */
struct bw_arena_block;
struct bw_arena {
	struct bw_arena_block	*head;
};

void	 bw_arena_init(struct bw_arena *);
void	*bw_arena_alloc(struct bw_arena *, size_t);
char	*bw_arena_strdup(struct bw_arena *, const char *);
char	*bw_arena_strndup(struct bw_arena *, const char *, size_t);
char	*bw_arena_printf(struct bw_arena *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 bw_arena_free(struct bw_arena *);

/* Logging: one line per call to stderr, never with secrets in it. */
enum bw_log_level {
	BW_LOG_DEBUG,
	BW_LOG_INFO,
	BW_LOG_WARN,
	BW_LOG_ERROR
};

void	bw_log(enum bw_log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	bw_logv(enum bw_log_level, const char *, va_list);
void	bw_log_set_level(enum bw_log_level);
/* Where log lines go; the Kore module routes them into kore_log. */
void	bw_log_set_sink(void (*)(enum bw_log_level, const char *));

/* Time in microseconds since the epoch, and monotonic microseconds. */
int64_t	bw_time_us(void);
int64_t	bw_mono_us(void);

/* Constant-time comparison of two byte strings of equal length. */
int	bw_ct_equal(const void *, const void *, size_t);

/* Fills a buffer with cryptographically strong random bytes or aborts. */
void	bw_random_bytes(void *, size_t);

#endif
