/* The /metrics HTTP endpoint: libmicrohttpd parses and answers HTTP; this
 * file binds the socket (so a refused bind reports its errno), drives MHD
 * from libuv (epoll fd in a uv_poll_t, MHD_get_timeout in a uv_timer_t,
 * MHD_run after either), and turns a scrape into collect + render. */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"

#define METRICS_HTTP_CONN_MAX	  32 /* concurrent connections */
#define METRICS_HTTP_IDLE_S	  10 /* an idle connection is closed */
#define METRICS_HTTP_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static const char metrics_http_404[] = "not found: the metrics are at "
				       "/metrics\n";
static const char metrics_http_405[] = "method not allowed: GET /metrics\n";
static const char metrics_http_500[] = "metrics unavailable (see the log)\n";

int metrics_http_parse(const char *opt, const char *text,
		       struct config_addr *out, char *err, size_t errlen)
{
	char line[CONFIG_ADDR_MAX + 32], msg[256];
	struct config c;
	const char *why;
	if (strlen(text) >= CONFIG_ADDR_MAX || strpbrk(text, "\"\\\n")) {
		snprintf(err, errlen, "%s: \"%.80s\" is not host:port", opt,
			 text);
		return -EINVAL;
	}
	snprintf(line, sizeof(line), "metrics_listen \"%s\"\n", text);
	if (config_parse_buf(opt, line, strlen(line), &c, msg, sizeof(msg)) <
	    0) {
		/* "opt:1: metrics_listen: why" -> "opt: why" */
		why = strstr(msg, "metrics_listen: ");
		snprintf(err, errlen, "%s: %s", opt,
			 why ? why + strlen("metrics_listen: ") : msg);
		return -EINVAL;
	}
	*out = c.metrics_listen;
	return 0;
}

/* ---- requests ---------------------------------------------------------- */

static enum MHD_Result metrics_http_send(struct MHD_Connection *conn,
					 unsigned status, void *body,
					 size_t len,
					 enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, body, mode);
	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO; /* MHD closes the connection */
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				status == MHD_HTTP_OK
					? METRICS_HTTP_CONTENT_TYPE
					: "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result metrics_http_static(struct MHD_Connection *conn,
					   unsigned status, const char *text)
{
	/* PERSISTENT: MHD neither copies nor frees the (const) text */
	return metrics_http_send(conn, status, (void *)(uintptr_t)text,
				 strlen(text), MHD_RESPMEM_PERSISTENT);
}

/* Read the counters now (we are on the loop thread) and answer with them. */
static enum MHD_Result metrics_http_scrape(struct metrics_http *h,
					   struct MHD_Connection *conn)
{
	struct metrics m;
	char *text = NULL;
	size_t len = 0;
	metrics_init(&m);
	h->collect(h->arg, &m);
	int rc = metrics_render(&m, &text, &len);
	metrics_free(&m);
	if (rc < 0) {
		h->errors++;
		LOG_RL(LOG_LEVEL_ERROR, "metrics: cannot render", "err=%s",
		       LOG_Q(strerror(-rc)));
		return metrics_http_static(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
					   metrics_http_500);
	}
	h->scrapes++;
	return metrics_http_send(conn, MHD_HTTP_OK, text, len,
				 MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result
metrics_http_answer(void *cls, struct MHD_Connection *conn, const char *url,
		    const char *method, const char *version,
		    const char *upload_data, size_t *upload_data_size,
		    void **con_cls)
{
	struct metrics_http *h = cls;
	(void)version;
	(void)upload_data;
	if (!*con_cls) {
		/* First call: headers only. Answer on the next one, after any
		 * body, as MHD expects. */
		*con_cls = h;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* a body we have no use for */
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		h->not_found++;
		return metrics_http_static(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
					   metrics_http_405);
	}
	if (strcmp(url, "/metrics") != 0) {
		h->not_found++;
		return metrics_http_static(conn, MHD_HTTP_NOT_FOUND,
					   metrics_http_404);
	}
	return metrics_http_scrape(h, conn);
}

static void metrics_http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char text[256];
	(void)cls;
	vsnprintf(text, sizeof(text), fmt, ap);
	text[strcspn(text, "\n")] = '\0';
	LOG_RL(LOG_LEVEL_WARN, "metrics: libmicrohttpd", "said=%s",
	       LOG_Q(text));
}

/* ---- the loop ---------------------------------------------------------- */

static void metrics_http_timer_cb(uv_timer_t *t);

/* MHD_run, then wake up again no later than MHD wants to run next. */
static void metrics_http_run(struct metrics_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;
	MHD_run(h->daemon);
	if (MHD_get_timeout(h->daemon, &ms) == MHD_YES)
		uv_timer_start(&h->timer, metrics_http_timer_cb, (uint64_t)ms,
			       0);
	else
		uv_timer_stop(&h->timer);
}

static void metrics_http_timer_cb(uv_timer_t *t)
{
	metrics_http_run(t->data);
}

static void metrics_http_poll_cb(uv_poll_t *p, int status, int events)
{
	(void)events;
	if (status < 0)
		LOG_RL(LOG_LEVEL_WARN, "metrics: poll error", "err=%s",
		       LOG_Q(uv_strerror(status)));
	metrics_http_run(p->data);
}

/* A listening TCP socket on addr; its bound address text into h. Returns the
 * fd or -errno. */
static int metrics_http_listen(struct metrics_http *h,
			       const struct config_addr *addr)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd, rc;
	bool v6 = strchr(addr->host, ':') != NULL;
	const char *host =
		strcmp(addr->host, "localhost") ? addr->host : "127.0.0.1";
	memset(&ss, 0, sizeof(ss));
	if (v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(addr->port);
		rc = inet_pton(AF_INET6, host, &s6->sin6_addr);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(addr->port);
		rc = inet_pton(AF_INET, host, &s4->sin_addr);
		sl = sizeof(*s4);
	}
	if (rc != 1)
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	/* the port the kernel chose when asked for port 0 */
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	uint16_t port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
				 : ((struct sockaddr_in *)&ss)->sin_port);
	snprintf(h->listen_text, sizeof(h->listen_text),
		 v6 ? "[%s]:%u" : "%s:%u", addr->host, port);
	return fd;
}

int metrics_http_start(struct metrics_http *h, uv_loop_t *loop,
		       const struct config_addr *addr,
		       metrics_collect_fn *collect, void *arg, char *err,
		       size_t errlen)
{
	memset(h, 0, sizeof(*h));
	h->loop = loop;
	h->collect = collect;
	h->arg = arg;
	if (!addr->text[0])
		return 0;
	int fd = metrics_http_listen(h, addr);
	if (fd < 0) {
		snprintf(err, errlen, "metrics on %s: %s", addr->text,
			 strerror(-fd));
		return fd;
	}
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (strchr(addr->host, ':'))
		flags |= MHD_USE_IPv6;
	/* No MHD_USE_INTERNAL_POLLING_THREAD: MHD_run from our loop only. */
	h->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, metrics_http_answer, h,
		MHD_OPTION_EXTERNAL_LOGGER, metrics_http_mhd_log, h,
		MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)METRICS_HTTP_CONN_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)METRICS_HTTP_IDLE_S, MHD_OPTION_END);
	const union MHD_DaemonInfo *info =
		h->daemon ? MHD_get_daemon_info(h->daemon,
						MHD_DAEMON_INFO_EPOLL_FD)
			  : NULL;
	if (!info) {
		snprintf(err, errlen,
			 "metrics on %s: libmicrohttpd "
			 "refused to start (epoll support?)",
			 addr->text);
		if (h->daemon)
			MHD_stop_daemon(h->daemon); /* closes fd */
		else
			close(fd);
		h->daemon = NULL;
		return -EIO;
	}
	int rc = uv_poll_init(loop, &h->poll, info->epoll_fd);
	if (rc < 0) {
		snprintf(err, errlen, "metrics on %s: uv_poll_init: %s",
			 addr->text, uv_strerror(rc));
		MHD_stop_daemon(h->daemon);
		h->daemon = NULL;
		return rc;
	}
	h->poll.data = h;
	uv_poll_start(&h->poll, UV_READABLE, metrics_http_poll_cb);
	uv_unref((uv_handle_t *)&h->poll);
	uv_timer_init(loop, &h->timer);
	h->timer.data = h;
	uv_unref((uv_handle_t *)&h->timer);
	metrics_http_run(h);
	return 0;
}

void metrics_http_close(struct metrics_http *h)
{
	if (!h->daemon)
		return;
	uv_poll_stop(&h->poll);
	uv_close((uv_handle_t *)&h->poll, NULL);
	uv_timer_stop(&h->timer);
	uv_close((uv_handle_t *)&h->timer, NULL);
	MHD_stop_daemon(h->daemon);
	h->daemon = NULL;
}
