/* The ip-up hook's report (see ppp_report_msg.h): encode, and a strict
 * decoder over (p, len) that reads one field at a time and rejects anything
 * after the last one. */
#include "ppp_report_msg.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* A read cursor over the report. */
struct prm_rd {
	const uint8_t *p; /* the bytes */
	size_t len;	  /* how many */
	size_t off;	  /* next to read */
};

static bool prm_lit(struct prm_rd *r, const char *s)
{
	size_t n = strlen(s);
	if (r->len - r->off < n || memcmp(r->p + r->off, s, n) != 0)
		return false;
	r->off += n;
	return true;
}

/* Decimal, no sign, no leading zero (but "0"), at most max. */
static bool prm_uint(struct prm_rd *r, uint32_t max, uint32_t *v)
{
	uint64_t x = 0;
	size_t start = r->off;
	while (r->off < r->len && r->p[r->off] >= '0' && r->p[r->off] <= '9') {
		x = x * 10 + (uint64_t)(r->p[r->off] - '0');
		r->off++;
		if (x > max)
			return false;
	}
	size_t n = r->off - start;
	if (n == 0 || (n > 1 && r->p[start] == '0'))
		return false;
	*v = (uint32_t)x;
	return true;
}

static bool prm_ipv4(struct prm_rd *r, uint32_t *addr)
{
	uint32_t a = 0, part;
	for (int i = 0; i < 4; i++) {
		if (i > 0 && !prm_lit(r, "."))
			return false;
		if (!prm_uint(r, 255, &part))
			return false;
		a = a << 8 | part;
	}
	*addr = a;
	return true;
}

static bool prm_session(struct prm_rd *r, uint16_t *tid, uint16_t *sid)
{
	uint32_t t, s;
	if (!prm_uint(r, 65535, &t) || t == 0 || !prm_lit(r, "/") ||
	    !prm_uint(r, 65535, &s) || s == 0)
		return false;
	*tid = (uint16_t)t;
	*sid = (uint16_t)s;
	return true;
}

/* An interface name as the kernel allows it (dev_valid_name): 1..15
 * printable octets, no space, '/' or ':'. */
static bool prm_ifname_ok(const uint8_t *p, size_t n)
{
	if (n == 0 || n > PPP_REPORT_IFNAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f || p[i] == '/' || p[i] == ':')
			return false;
	return true;
}

int ppp_report_msg_decode(const uint8_t *p, size_t len,
			  struct ppp_report_msg *m)
{
	struct prm_rd r = {p, len, 0};
	uint32_t pid;
	memset(m, 0, sizeof(*m));
	if (len > PPP_REPORT_MSG_MAX || !prm_lit(&r, "1 session=") ||
	    !prm_session(&r, &m->tid, &m->sid) || !prm_lit(&r, " pid=") ||
	    !prm_uint(&r, INT32_MAX, &pid) || pid == 0 ||
	    !prm_lit(&r, " local=") || !prm_ipv4(&r, &m->local) ||
	    !prm_lit(&r, " remote=") || !prm_ipv4(&r, &m->remote) ||
	    !prm_lit(&r, " ifname="))
		goto bad;
	/* the name runs to the end: it is the last field */
	if (!prm_ifname_ok(p + r.off, len - r.off))
		goto bad;
	memcpy(m->ifname, p + r.off, len - r.off);
	m->pid = (int32_t)pid;
	return 0;
bad:
	memset(m, 0, sizeof(*m));
	return -EINVAL;
}

int ppp_report_msg_encode(const struct ppp_report_msg *m, char *buf, size_t len)
{
	if (m->tid == 0 || m->sid == 0 || m->pid <= 0 ||
	    !prm_ifname_ok((const uint8_t *)m->ifname,
			   strnlen(m->ifname, sizeof(m->ifname))))
		return -EINVAL;
	uint32_t l = m->local, r = m->remote;
	int n = snprintf(buf, len,
			 "%d session=%u/%u pid=%d local=%u.%u.%u.%u "
			 "remote=%u.%u.%u.%u ifname=%s",
			 PPP_REPORT_MSG_VERSION, m->tid, m->sid, (int)m->pid,
			 l >> 24, (l >> 16) & 0xff, (l >> 8) & 0xff, l & 0xff,
			 r >> 24, (r >> 16) & 0xff, (r >> 8) & 0xff, r & 0xff,
			 m->ifname);
	if (n < 0 || (size_t)n >= len || n > PPP_REPORT_MSG_MAX)
		return -ENOSPC;
	return n;
}

int ppp_report_msg_session(const char *text, uint16_t *tid, uint16_t *sid)
{
	struct prm_rd r = {(const uint8_t *)text, strlen(text), 0};
	if (!prm_session(&r, tid, sid) || r.off != r.len)
		return -EINVAL;
	return 0;
}

int ppp_report_msg_ipv4(const char *text, uint32_t *addr)
{
	struct prm_rd r = {(const uint8_t *)text, strlen(text), 0};
	if (!prm_ipv4(&r, addr) || r.off != r.len)
		return -EINVAL;
	return 0;
}

int ppp_report_msg_sockaddr(const char *name, struct sockaddr_un *a,
			    socklen_t *alen)
{
	size_t n = strlen(name);
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (n == 0 || (name[0] == '@' && n == 1))
		return -EINVAL;
	if (n > sizeof(a->sun_path) - (name[0] == '@' ? 0 : 1))
		return -ENAMETOOLONG;
	/* "@x": sun_path = "\0x", the length counts exactly those bytes */
	memcpy(a->sun_path, name, n);
	if (name[0] == '@')
		a->sun_path[0] = '\0';
	*alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
			    (name[0] == '@' ? 0 : 1));
	return 0;
}
