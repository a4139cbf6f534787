/* tandem-ip-up: the ip-up script a tandem worker gives each of its pppds
 * (`ip-up-script`). Reports the addresses IPCP negotiated to that worker
 * (lib/ppp_report_msg.h) on the socket named by TANDEM_REPORT, waiting at
 * most 1 s for the answer, then runs /etc/ppp/ip-up with the same arguments
 * and environment, so operators keep their scripts. Always exits 0 when it
 * does not exec: pppd must not care whether the worker is still there.
 *   pppd runs: tandem-ip-up IFNAME TTY SPEED LOCAL REMOTE IPPARAM
 *   environment: TANDEM_REPORT (pppd's `set`), PPPD_PID (pppd's own)
 * Logs to syslog (daemon) and stderr (pppd gives scripts /dev/null). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ppp_report_msg.h"

#define IP_UP_NEXT	 "/etc/ppp/ip-up" /* what pppd would have run */
#define IP_UP_BUDGET_MS	 1000		  /* the most pppd's script waits */
#define IP_UP_SYSLOG_TAG "tandem-ip-up"

static void ip_up_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void ip_up_log(int prio, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	syslog(prio, "%s", line);
	fprintf(stderr, "%s: %s\n", IP_UP_SYSLOG_TAG, line);
}

static int64_t ip_up_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline. 0, or -ETIMEDOUT / -errno. */
static int ip_up_wait(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - ip_up_now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* The report from pppd's arguments and environment into m. 0 or -EINVAL
 * (logged). */
static int ip_up_build(int argc, char **argv, struct ppp_report_msg *m)
{
	const char *pid_text = getenv("PPPD_PID");
	memset(m, 0, sizeof(*m));
	if (argc < 7) {
		ip_up_log(
			LOG_ERR,
			"msg=\"usage: IFNAME TTY SPEED LOCAL REMOTE IPPARAM\" "
			"argc=%d",
			argc);
		return -EINVAL;
	}
	if (ppp_report_msg_session(argv[6], &m->tid, &m->sid) < 0 ||
	    ppp_report_msg_ipv4(argv[4], &m->local) < 0 ||
	    ppp_report_msg_ipv4(argv[5], &m->remote) < 0 ||
	    strlen(argv[1]) > PPP_REPORT_IFNAME_MAX) {
		ip_up_log(
			LOG_ERR,
			"msg=\"cannot read pppd's arguments\" ifname=\"%.32s\" "
			"local=\"%.32s\" remote=\"%.32s\" ipparam=\"%.32s\"",
			argv[1], argv[4], argv[5], argv[6]);
		return -EINVAL;
	}
	snprintf(m->ifname, sizeof(m->ifname), "%s", argv[1]);
	/* pppd runs its scripts as direct children: the parent is pppd when
	 * PPPD_PID is missing */
	char *end = NULL;
	long pid = pid_text ? strtol(pid_text, &end, 10) : (long)getppid();
	if ((pid_text && (*end || end == pid_text)) || pid <= 0 ||
	    pid > INT32_MAX) {
		ip_up_log(LOG_ERR, "msg=\"bad PPPD_PID\" value=\"%.32s\"",
			  pid_text ? pid_text : "-");
		return -EINVAL;
	}
	m->pid = (int32_t)pid;
	return 0;
}

/* Send the report on to, wait for the worker's answer into reply. 0 or
 * -errno (-ECONNREFUSED: no worker listens there). */
static int ip_up_send(const char *to, const char *text, size_t len, char *reply,
		      size_t reply_len)
{
	struct sockaddr_un a;
	socklen_t alen;
	int64_t deadline = ip_up_now_ms() + IP_UP_BUDGET_MS;
	int rc = ppp_report_msg_sockaddr(to, &a, &alen);
	if (rc < 0)
		return rc;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* An autobound abstract name, so the worker can answer; connected,
	 * so only the worker's answer is read. */
	struct sockaddr_un self = {.sun_family = AF_UNIX};
	if (bind(fd, (struct sockaddr *)&self, sizeof(sa_family_t)) < 0 ||
	    connect(fd, (struct sockaddr *)&a, alen) < 0) {
		rc = -errno;
		goto out;
	}
	while (send(fd, text, len, MSG_NOSIGNAL) < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			rc = -errno;
			goto out;
		}
		if ((rc = ip_up_wait(fd, POLLOUT, deadline)) < 0)
			goto out;
	}
	for (;;) {
		ssize_t n = recv(fd, reply, reply_len - 1, 0);
		if (n >= 0) {
			reply[n] = '\0';
			rc = 0;
			break;
		}
		if (errno != EAGAIN && errno != EINTR) {
			rc = -errno;
			break;
		}
		if ((rc = ip_up_wait(fd, POLLIN, deadline)) < 0)
			break;
	}
out:
	close(fd);
	return rc;
}

static void ip_up_report(int argc, char **argv)
{
	const char *to = getenv("TANDEM_REPORT");
	struct ppp_report_msg m;
	char text[PPP_REPORT_MSG_MAX + 1], reply[64];
	if (!to || !to[0]) {
		ip_up_log(LOG_NOTICE, "msg=\"no TANDEM_REPORT: not started by "
				      "a tandem worker, nothing reported\"");
		return;
	}
	if (ip_up_build(argc, argv, &m) < 0)
		return;
	int n = ppp_report_msg_encode(&m, text, sizeof(text));
	if (n < 0) {
		ip_up_log(LOG_ERR,
			  "msg=\"cannot encode the report\" err=\"%s\"",
			  strerror(-n));
		return;
	}
	int64_t t0 = ip_up_now_ms();
	int rc = ip_up_send(to, text, (size_t)n, reply, sizeof(reply));
	long ms = (long)(ip_up_now_ms() - t0);
	if (rc < 0) {
		ip_up_log(LOG_WARNING,
			  "msg=\"report not delivered: the worker is gone or "
			  "busy, addresses not recorded\" to=\"%s\" tid=%u "
			  "sid=%u err=\"%s\" ms=%ld",
			  to, m.tid, m.sid, strerror(-rc), ms);
		return;
	}
	for (char *c = reply; *c; c++)
		if (*c < 0x20 || *c > 0x7e || *c == '"')
			*c = '?';
	bool ok = strncmp(reply, "1 ok ", 5) == 0;
	ip_up_log(ok ? LOG_INFO : LOG_WARNING,
		  "msg=\"%s\" tid=%u sid=%u local=%s remote=%s pid=%d "
		  "reply=\"%s\" ms=%ld",
		  ok ? "addresses reported" : "report refused by the worker",
		  m.tid, m.sid, argv[4], argv[5], (int)m.pid, reply, ms);
}

int main(int argc, char **argv)
{
	openlog(IP_UP_SYSLOG_TAG, LOG_PID, LOG_DAEMON);
	ip_up_report(argc, argv);
	/* Then what pppd would have run without us, if anything. */
	if (access(IP_UP_NEXT, X_OK) == 0) {
		closelog();
		argv[0] = (char *)IP_UP_NEXT;
		execv(IP_UP_NEXT, argv);
		openlog(IP_UP_SYSLOG_TAG, LOG_PID, LOG_DAEMON);
		ip_up_log(LOG_ERR, "msg=\"cannot run %s\" err=\"%s\"",
			  IP_UP_NEXT, strerror(errno));
	}
	closelog();
	return 0;
}
