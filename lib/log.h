/* Logging for every tandem process: one key=value text line per event
 * (ts= level= comp= msg= then the caller's context such as tid= sid= peer=),
 * a run-time level threshold, and per-call-site rate limiting (STYLE rule 8). */
#ifndef TANDEM_LOG_H
#define TANDEM_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Not LOG_INFO etc.: <syslog.h> defines those. */
enum log_level {
	LOG_LEVEL_ERROR = 0, /* something failed; an operator should look */
	LOG_LEVEL_WARN = 1,  /* unexpected but handled (bad packet, retry) */
	LOG_LEVEL_INFO = 2,  /* lifecycle: tunnel up/down, shard taken */
	LOG_LEVEL_DEBUG = 3, /* per packet / per state change detail */
};

#define LOG_LINE_MAX  1024 /* longest line written, newline included */
#define LOG_QUOTE_MAX 256  /* buffer LOG_Q uses for one quoted value */

#if defined(__GNUC__)
#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define LOG_PRINTF(f, a)
#endif

/* "error", "warn", "info", "debug"; "?" for anything else. */
const char *log_level_name(enum log_level level);
/* The level named s, or -EINVAL. */
int log_level_parse(const char *s);

/* Process-wide settings. Not thread-safe: set them at start-up or from the
 * loop thread (e.g. on SIGHUP). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* The comp= value, e.g. "worker". The string must outlive logging; NULL
 * restores "tandem". */
void log_set_component(const char *comp);
/* Write lines to f (flushed after each line); NULL restores stderr. */
void log_set_file(FILE *f);
/* Write lines to fd with one write(2) each (atomic on pipes for lines up to
 * PIPE_BUF); -1 restores stderr. */
void log_set_fd(int fd);
/* Clocks: monotonic milliseconds for rate limiting and milliseconds since the
 * Unix epoch for ts=. NULL restores the system clock. Tests inject fakes. */
void log_set_clock(uint64_t (*monotonic_ms)(void),
		   int64_t (*realtime_ms)(void));

static inline bool log_enabled(enum log_level level)
{
	return level <= log_get_level();
}

/* Write one line if level passes the threshold: ts=... level=... comp=...
 * msg="<msg escaped>" then " " and the printf-formatted tail fmt (key=value
 * pairs; NULL for none). msg is plain text, not a format. Values that may
 * hold spaces or quotes go through log_quote / LOG_Q. */
void log_msg(enum log_level level, const char *msg, const char *fmt, ...)
	LOG_PRINTF(3, 4);
void log_vmsg(enum log_level level, const char *msg, const char *fmt,
	      va_list ap) LOG_PRINTF(3, 0);

/* Arguments are evaluated only when the level is enabled. */
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)                                                          \
	do {                                                                   \
		if (log_enabled(LOG_LEVEL_WARN))                               \
			log_msg(LOG_LEVEL_WARN, __VA_ARGS__);                  \
	} while (0)
#define log_info(...)                                                          \
	do {                                                                   \
		if (log_enabled(LOG_LEVEL_INFO))                               \
			log_msg(LOG_LEVEL_INFO, __VA_ARGS__);                  \
	} while (0)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_enabled(LOG_LEVEL_DEBUG))                              \
			log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);                 \
	} while (0)

/* s as one key=value value: unchanged when it is non-empty and holds only
 * printable ASCII other than space, '"', '=' and '\'; otherwise in double
 * quotes with '"' and '\' backslash-escaped, \n \r \t, and other bytes below
 * 0x20 or above 0x7e as \xHH. Too long for buf: cut, ending in `..."`.
 * Writes into buf (len >= 8) and returns buf; NULL s gives "". */
const char *log_quote(char *buf, size_t len, const char *s);
/* log_quote into a buffer that lives until the end of the enclosing full
 * statement's block: log_info("login", "user=%s", LOG_Q(name)); */
#define LOG_Q(s) log_quote((char[LOG_QUOTE_MAX]){0}, LOG_QUOTE_MAX, (s))

/* A token bucket: `burst` lines at once, then one more every interval_ms.
 * Lines refused are counted and reported as suppressed=N on the next line
 * that passes. */
struct log_ratelimit {
	uint32_t burst;	      /* bucket size (lines allowed at once) */
	uint32_t interval_ms; /* one token added per interval_ms */
	uint32_t tokens;      /* lines allowed now */
	bool started;	      /* tokens and last_ms are valid */
	uint64_t last_ms;     /* monotonic time the last token was added */
	uint64_t suppressed;  /* lines refused since the last one allowed */
};

#define LOG_RL_BURST	   10	/* default bucket size */
#define LOG_RL_INTERVAL_MS 1000 /* default refill: one line per second */
#define LOG_RATELIMIT_INIT(burst, interval_ms)                                 \
	{                                                                      \
		(burst), (interval_ms), 0, false, 0, 0                         \
	}

/* Take a token at monotonic time now_ms. Returns true when the line may be
 * written; false counts it in rl->suppressed. */
bool log_ratelimit_allow(struct log_ratelimit *rl, uint64_t now_ms);

/* log_msg through rl: refused lines are counted, and the next line that passes
 * ends with " suppressed=N" (then the count restarts). */
void log_msg_rl(struct log_ratelimit *rl, enum log_level level, const char *msg,
		const char *fmt, ...) LOG_PRINTF(4, 5);

/* For lines a peer can trigger: each call site has its own bucket.
 *   LOG_RL(LOG_LEVEL_WARN, "bad AVP length", "tid=%u peer=%s", tid, peer);
 * LOG_RL_N sets the site's burst and refill interval. Lines below the level
 * threshold take no token. */
#define LOG_RL_N(burst, interval_ms, level, ...)                               \
	do {                                                                   \
		static struct log_ratelimit log_rl_site_ =                     \
			LOG_RATELIMIT_INIT(burst, interval_ms);                \
		if (log_enabled(level))                                        \
			log_msg_rl(&log_rl_site_, (level), __VA_ARGS__);       \
	} while (0)
#define LOG_RL(level, ...)                                                     \
	LOG_RL_N(LOG_RL_BURST, LOG_RL_INTERVAL_MS, level, __VA_ARGS__)

#endif
