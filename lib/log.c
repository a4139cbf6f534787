/* Logging: formats each event as one key=value line in a stack buffer and
 * writes it with one call, so lines from several processes sharing a pipe do
 * not interleave; token-bucket rate limiting for lines a peer can trigger. */
#include "log.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const log_level_names[] = {"error", "warn", "info", "debug"};

/* Process-wide logging state. */
struct log_state {
	enum log_level level;		/* lines above this are dropped */
	const char *comp;		/* comp= value */
	FILE *file;			/* output when fd < 0 */
	int fd;				/* output when >= 0 */
	uint64_t (*monotonic_ms)(void); /* rate-limit clock */
	int64_t (*realtime_ms)(void);	/* ts= clock */
};

static uint64_t log_sys_monotonic_ms(void);
static int64_t log_sys_realtime_ms(void);

static struct log_state log_state = {
	.level = LOG_LEVEL_INFO,
	.comp = "tandem",
	.file = NULL,
	.fd = STDERR_FILENO,
	.monotonic_ms = log_sys_monotonic_ms,
	.realtime_ms = log_sys_realtime_ms,
};

static uint64_t log_sys_monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int64_t log_sys_realtime_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level >=
	    sizeof(log_level_names) / sizeof(*log_level_names))
		return "?";
	return log_level_names[level];
}

int log_level_parse(const char *s)
{
	for (size_t i = 0;
	     i < sizeof(log_level_names) / sizeof(*log_level_names); i++)
		if (s && strcmp(s, log_level_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

void log_set_level(enum log_level level)
{
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	log_state.level = level;
}

enum log_level log_get_level(void)
{
	return log_state.level;
}

void log_set_component(const char *comp)
{
	log_state.comp = comp ? comp : "tandem";
}

void log_set_file(FILE *f)
{
	log_state.file = f;
	log_state.fd = f ? -1 : STDERR_FILENO;
}

void log_set_fd(int fd)
{
	log_state.file = NULL;
	log_state.fd = fd >= 0 ? fd : STDERR_FILENO;
}

void log_set_clock(uint64_t (*monotonic_ms)(void), int64_t (*realtime_ms)(void))
{
	log_state.monotonic_ms =
		monotonic_ms ? monotonic_ms : log_sys_monotonic_ms;
	log_state.realtime_ms = realtime_ms ? realtime_ms : log_sys_realtime_ms;
}

/* Does c need quoting inside a key=value value? */
static bool log_needs_quote(unsigned char c)
{
	return c <= ' ' || c >= 0x7f || c == '"' || c == '=' || c == '\\';
}

/* Append to a fixed buffer; once full, further output is dropped and *cut set. */
struct log_buf {
	char *p;    /* start of the buffer */
	size_t cap; /* bytes usable, excluding the final NUL */
	size_t len; /* bytes written */
	bool cut;   /* something did not fit */
};

static void log_buf_putn(struct log_buf *b, const char *s, size_t n)
{
	if (n > b->cap - b->len) {
		n = b->cap - b->len;
		b->cut = true;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void log_buf_puts(struct log_buf *b, const char *s)
{
	log_buf_putn(b, s, strlen(s));
}

/* The escaped form of one byte (without quotes) into out; returns its length. */
static size_t log_escape_byte(unsigned char c, char out[5])
{
	static const char hex[] = "0123456789abcdef";
	switch (c) {
	case '"':
	case '\\':
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	case '\n':
		memcpy(out, "\\n", 2);
		return 2;
	case '\r':
		memcpy(out, "\\r", 2);
		return 2;
	case '\t':
		memcpy(out, "\\t", 2);
		return 2;
	default:
		break;
	}
	if (c < 0x20 || c >= 0x7f) {
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hex[c >> 4];
		out[3] = hex[c & 0xf];
		return 4;
	}
	out[0] = (char)c;
	return 1;
}

/* Append s in double quotes, escaped, cutting it (with "...") so that the
 * closing quote always fits in the room left after `reserve` bytes. */
static void log_buf_quoted(struct log_buf *b, const char *s, size_t reserve)
{
	size_t room = b->cap - b->len;

	if (room < reserve + 6) { /* not even "..." fits */
		b->cut = true;
		return;
	}
	room -= reserve;
	log_buf_putn(b, "\"", 1);
	room -= 1;
	for (; *s; s++) {
		char e[5];
		size_t n = log_escape_byte((unsigned char)*s, e);
		/* keep 4 bytes for `..."` unless this is the last byte */
		size_t keep = s[1] ? 4 : 1;
		if (n + keep > room) {
			log_buf_putn(b, "...", 3);
			b->cut = true;
			break;
		}
		log_buf_putn(b, e, n);
		room -= n;
	}
	log_buf_putn(b, "\"", 1);
}

const char *log_quote(char *buf, size_t len, const char *s)
{
	struct log_buf b = {buf, len ? len - 1 : 0, 0, false};
	bool plain = s && *s;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (!s)
		return buf;
	for (const char *q = s; plain && *q; q++)
		plain = !log_needs_quote((unsigned char)*q);
	if (plain && strlen(s) < len) {
		log_buf_puts(&b, s);
		return buf;
	}
	log_buf_quoted(&b, s, 0);
	return buf;
}

/* ts=YYYY-MM-DDTHH:MM:SS.mmmZ */
static void log_buf_ts(struct log_buf *b, int64_t ms)
{
	char t[96];
	struct tm tm;
	time_t sec = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int frac = (int)(ms - (int64_t)sec * 1000);

	if (!gmtime_r(&sec, &tm)) {
		log_buf_puts(b, "ts=?");
		return;
	}
	snprintf(t, sizeof(t), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, frac);
	log_buf_puts(b, t);
}

static void log_write(const char *line, size_t len)
{
	if (log_state.fd >= 0) {
		while (len > 0) {
			ssize_t n = write(log_state.fd, line, len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return; /* nowhere to report it */
			line += n;
			len -= (size_t)n;
		}
		return;
	}
	fwrite(line, 1, len, log_state.file);
	fflush(log_state.file);
}

/* Room kept at the end of every line for " suppressed=<20 digits>",
 * " truncated=1" and the newline. */
#define LOG_TAIL_RESERVE 48

static void log_emit(enum log_level level, uint64_t suppressed, const char *msg,
		     const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	struct log_buf b = {line, sizeof(line) - 1 - LOG_TAIL_RESERVE, 0,
			    false};
	char num[40];

	line[0] = '\0';
	log_buf_ts(&b, log_state.realtime_ms());
	log_buf_puts(&b, " level=");
	log_buf_puts(&b, log_level_name(level));
	log_buf_puts(&b, " comp=");
	log_buf_puts(&b, log_state.comp);
	log_buf_puts(&b, " msg=");
	log_buf_quoted(&b, msg ? msg : "", 0);
	if (fmt && *fmt && !b.cut) {
		size_t room;
		int n;
		log_buf_putn(&b, " ", 1);
		room = b.cap - b.len;
		n = vsnprintf(line + b.len, room + 1, fmt, ap);
		if (n < 0) {
			b.cut = true;
		} else if ((size_t)n > room) {
			b.len += room;
			b.cut = true;
		} else {
			b.len += (size_t)n;
		}
	}
	/* the reserve guarantees room for what follows */
	b.cap += LOG_TAIL_RESERVE;
	if (suppressed) {
		snprintf(num, sizeof(num), " suppressed=%llu",
			 (unsigned long long)suppressed);
		log_buf_puts(&b, num);
	}
	if (b.cut)
		log_buf_puts(&b, " truncated=1");
	log_buf_putn(&b, "\n", 1);
	log_write(line, b.len);
}

void log_vmsg(enum log_level level, const char *msg, const char *fmt,
	      va_list ap)
{
	if (!log_enabled(level))
		return;
	log_emit(level, 0, msg, fmt, ap);
}

void log_msg(enum log_level level, const char *msg, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	log_emit(level, 0, msg, fmt, ap);
	va_end(ap);
}

bool log_ratelimit_allow(struct log_ratelimit *rl, uint64_t now_ms)
{
	if (!rl->started) {
		rl->started = true;
		rl->tokens = rl->burst;
		rl->last_ms = now_ms;
	} else if (now_ms > rl->last_ms && rl->interval_ms) {
		uint64_t add = (now_ms - rl->last_ms) / rl->interval_ms;
		if (add >= rl->burst - rl->tokens) {
			rl->tokens = rl->burst;
			rl->last_ms =
				now_ms; /* full: no credit for idle time */
		} else {
			rl->tokens += (uint32_t)add;
			/* keep the part of an interval already waited */
			rl->last_ms += add * rl->interval_ms;
		}
	}
	if (rl->tokens == 0) {
		rl->suppressed++;
		return false;
	}
	rl->tokens--;
	return true;
}

void log_msg_rl(struct log_ratelimit *rl, enum log_level level, const char *msg,
		const char *fmt, ...)
{
	va_list ap;
	uint64_t suppressed;

	if (!log_enabled(level))
		return;
	if (!log_ratelimit_allow(rl, log_state.monotonic_ms()))
		return;
	suppressed = rl->suppressed;
	rl->suppressed = 0;
	va_start(ap, fmt);
	log_emit(level, suppressed, msg, fmt, ap);
	va_end(ap);
}
