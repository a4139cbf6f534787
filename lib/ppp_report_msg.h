/* The report pppd's ip-up hook (tools/ip-up.c, bin/tandem-ip-up) sends to
 * the worker that started that pppd: the session, the pppd, and the IPv4
 * addresses IPCP negotiated. One datagram of text, versioned:
 *   1 session=<tid>/<sid> pid=<pppd pid> local=<a.b.c.d> remote=<a.b.c.d>
 *   ifname=<interface>
 * (one line, single spaces, fields in this order, nothing after). The
 * worker answers "1 ok <result>" or "1 error <result>". Pure: no I/O, no
 * allocation. */
#ifndef TANDEM_PPP_REPORT_MSG_H
#define TANDEM_PPP_REPORT_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define PPP_REPORT_MSG_VERSION 1
#define PPP_REPORT_MSG_MAX     192 /* longest report (and reply) */
#define PPP_REPORT_IFNAME_MAX  15  /* IFNAMSIZ - 1 */

struct ppp_report_msg {
	uint16_t tid, sid;			/* the session (our IDs) */
	int32_t pid;				/* the pppd that ran the hook */
	uint32_t local, remote;			/* host byte order */
	char ifname[PPP_REPORT_IFNAME_MAX + 1]; /* e.g. "ppp0" */
};

/* m as text into buf (no NUL counted). Returns the length, or -EINVAL (a
 * field out of range) or -ENOSPC. */
int ppp_report_msg_encode(const struct ppp_report_msg *m, char *buf,
			  size_t len);
/* Decode one report of exactly len bytes into m. 0, or -EINVAL: wrong
 * version, field missing, out of order, out of range or repeated, bytes
 * after the last field, a NUL anywhere. */
int ppp_report_msg_decode(const uint8_t *p, size_t len,
			  struct ppp_report_msg *m);

/* "<tid>/<sid>" (1..65535 each, decimal) as pppd's ipparam carries it. 0 or
 * -EINVAL. */
int ppp_report_msg_session(const char *text, uint16_t *tid, uint16_t *sid);
/* Strict dotted-quad IPv4 ("a.b.c.d", no leading zeros, nothing else) to
 * host byte order. 0 or -EINVAL. */
int ppp_report_msg_ipv4(const char *text, uint32_t *addr);

/* The socket address of a report socket name: "@name" is abstract (no
 * file), anything else a path. 0, or -EINVAL (empty), -ENAMETOOLONG. */
int ppp_report_msg_sockaddr(const char *name, struct sockaddr_un *a,
			    socklen_t *alen);

#endif
