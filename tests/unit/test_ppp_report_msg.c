/* The ip-up hook's report (lib/ppp_report_msg.c): the golden text, encode
 * and decode agreeing, every kind of malformed report refused, the
 * argument parsers the hook uses, and socket names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ppp_report_msg.h"

static const char golden[] = "1 session=513/9 pid=4242 local=192.0.2.1 "
			     "remote=198.51.100.50 ifname=ppp0";

static int decode(const char *text, struct ppp_report_msg *m)
{
	return ppp_report_msg_decode((const uint8_t *)text, strlen(text), m);
}

static void test_golden(void **state)
{
	struct ppp_report_msg m = {.tid = 513,
				   .sid = 9,
				   .pid = 4242,
				   .local = 0xc0000201,
				   .remote = 0xc6336432,
				   .ifname = "ppp0"};
	char buf[PPP_REPORT_MSG_MAX + 1];
	(void)state;
	int n = ppp_report_msg_encode(&m, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(golden));
	assert_string_equal(buf, golden);
	struct ppp_report_msg d;
	assert_int_equal(decode(golden, &d), 0);
	assert_memory_equal(&d, &m, sizeof(m));
	/* the extremes round-trip too */
	m = (struct ppp_report_msg){.tid = 65535,
				    .sid = 1,
				    .pid = INT32_MAX,
				    .local = 0,
				    .remote = 0xffffffff,
				    .ifname = "ppp123456789012"};
	n = ppp_report_msg_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(ppp_report_msg_decode((uint8_t *)buf, (size_t)n, &d),
			 0);
	assert_memory_equal(&d, &m, sizeof(m));
	/* too small a buffer, fields the decoder would refuse */
	assert_int_equal(ppp_report_msg_encode(&m, buf, 20), -ENOSPC);
	m.tid = 0;
	assert_int_equal(ppp_report_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.tid = 1;
	m.pid = 0;
	assert_int_equal(ppp_report_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.pid = 1;
	strcpy(m.ifname, "pp p");
	assert_int_equal(ppp_report_msg_encode(&m, buf, sizeof(buf)), -EINVAL);
}

static void test_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"1",
		"2 session=513/9 pid=4242 local=192.0.2.1 remote=198.51.100.50 "
		"ifname=ppp0",
		" 1 session=513/9 pid=4242 local=192.0.2.1 "
		"remote=198.51.100.50 ifname=ppp0",
		"1  session=513/9 pid=4242 local=192.0.2.1 "
		"remote=198.51.100.50 ifname=ppp0",
		"1 session=0/9 pid=4242 local=192.0.2.1 remote=198.51.100.50 "
		"ifname=ppp0",
		"1 session=513/0 pid=4242 local=192.0.2.1 remote=198.51.100.50 "
		"ifname=ppp0",
		"1 session=65536/9 pid=4242 local=192.0.2.1 "
		"remote=198.51.100.50 ifname=ppp0",
		"1 session=0513/9 pid=4242 local=192.0.2.1 "
		"remote=198.51.100.50 ifname=ppp0",
		"1 session=513 pid=4242 local=192.0.2.1 remote=198.51.100.50 "
		"ifname=ppp0",
		"1 session=513/9 pid=0 local=192.0.2.1 remote=198.51.100.50 "
		"ifname=ppp0",
		"1 session=513/9 pid=-1 local=192.0.2.1 remote=198.51.100.50 "
		"ifname=ppp0",
		"1 session=513/9 pid=2147483648 local=192.0.2.1 "
		"remote=198.51.100.50 ifname=ppp0",
		"1 session=513/9 pid=99999999999999999999 local=192.0.2.1 "
		"remote=198.51.100.50 ifname=ppp0",
		"1 session=513/9 pid=4242 local=192.0.2 remote=198.51.100.50 "
		"ifname=ppp0",
		"1 session=513/9 pid=4242 local=192.0.2.256 "
		"remote=198.51.100.50 ifname=ppp0",
		"1 session=513/9 pid=4242 local=192.0.02.1 "
		"remote=198.51.100.50 ifname=ppp0",
		"1 session=513/9 pid=4242 local=192.0.2.1.5 "
		"remote=198.51.100.50 ifname=ppp0",
		"1 session=513/9 pid=4242 local=::1 remote=198.51.100.50 "
		"ifname=ppp0",
		"1 session=513/9 pid=4242 remote=198.51.100.50 "
		"local=192.0.2.1 ifname=ppp0",
		"1 session=513/9 pid=4242 local=192.0.2.1 remote=198.51.100.50",
		"1 session=513/9 pid=4242 local=192.0.2.1 remote=198.51.100.50 "
		"ifname=",
		"1 session=513/9 pid=4242 local=192.0.2.1 remote=198.51.100.50 "
		"ifname=ppp0 ",
		"1 session=513/9 pid=4242 local=192.0.2.1 remote=198.51.100.50 "
		"ifname=ppp0 extra=1",
		"1 session=513/9 pid=4242 local=192.0.2.1 remote=198.51.100.50 "
		"ifname=a/b",
		"1 session=513/9 pid=4242 local=192.0.2.1 remote=198.51.100.50 "
		"ifname=ppp0123456789012",
		"1 session=513/9 pid=4242 local=192.0.2.1 remote=198.51.100.50 "
		"ifname=ppp0\n",
		"1 session=513/9 pid=4242 pid=4242 local=192.0.2.1 "
		"remote=198.51.100.50 ifname=ppp0",
	};
	struct ppp_report_msg m;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&m, 0x5a, sizeof(m));
		if (decode(bad[i], &m) != -EINVAL)
			fail_msg("accepted: \"%s\"", bad[i]);
		assert_int_equal(m.tid, 0); /* nothing half-filled */
	}
	/* a NUL inside, and the golden text with one byte cut or added */
	uint8_t buf[sizeof(golden) + 1];
	memcpy(buf, golden, sizeof(golden));
	assert_int_equal(ppp_report_msg_decode(buf, sizeof(golden), &m),
			 -EINVAL);
	assert_int_equal(ppp_report_msg_decode(buf, sizeof(golden) - 2, &m), 0);
	assert_string_equal(m.ifname, "ppp");
	buf[10] = '\0';
	assert_int_equal(ppp_report_msg_decode(buf, sizeof(golden) - 1, &m),
			 -EINVAL);
	/* longer than any report */
	uint8_t big[PPP_REPORT_MSG_MAX + 1];
	memset(big, 'a', sizeof(big));
	memcpy(big, golden, sizeof(golden) - 1);
	assert_int_equal(ppp_report_msg_decode(big, sizeof(big), &m), -EINVAL);
}

static void test_args(void **state)
{
	uint16_t tid, sid;
	uint32_t a;
	(void)state;
	assert_int_equal(ppp_report_msg_session("513/9", &tid, &sid), 0);
	assert_int_equal(tid, 513);
	assert_int_equal(sid, 9);
	assert_int_equal(ppp_report_msg_session("513/9 ", &tid, &sid), -EINVAL);
	assert_int_equal(ppp_report_msg_session("", &tid, &sid), -EINVAL);
	assert_int_equal(ppp_report_msg_session("a/b", &tid, &sid), -EINVAL);
	assert_int_equal(ppp_report_msg_ipv4("127.0.0.1", &a), 0);
	assert_int_equal(a, 0x7f000001);
	assert_int_equal(ppp_report_msg_ipv4("0.0.0.0", &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(ppp_report_msg_ipv4("127.0.0.1x", &a), -EINVAL);
	assert_int_equal(ppp_report_msg_ipv4("1.2.3", &a), -EINVAL);
	assert_int_equal(ppp_report_msg_ipv4("1..2.3", &a), -EINVAL);
}

static void test_sockaddr(void **state)
{
	struct sockaddr_un a;
	socklen_t len;
	char name[120];
	(void)state;
	assert_int_equal(ppp_report_msg_sockaddr("@x/y", &a, &len), 0);
	assert_int_equal(a.sun_family, AF_UNIX);
	assert_memory_equal(a.sun_path, "\0x/y", 4);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 4);
	assert_int_equal(ppp_report_msg_sockaddr("/run/r", &a, &len), 0);
	assert_string_equal(a.sun_path, "/run/r");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 7);
	assert_int_equal(ppp_report_msg_sockaddr("", &a, &len), -EINVAL);
	assert_int_equal(ppp_report_msg_sockaddr("@", &a, &len), -EINVAL);
	/* abstract: 108 bytes of name fit (no NUL); a path: 107 */
	memset(name, 'n', sizeof(name));
	name[0] = '@';
	name[108] = '\0';
	assert_int_equal(ppp_report_msg_sockaddr(name, &a, &len), 0);
	name[108] = 'n';
	name[109] = '\0';
	assert_int_equal(ppp_report_msg_sockaddr(name, &a, &len),
			 -ENAMETOOLONG);
	name[0] = '/';
	name[108] = '\0';
	assert_int_equal(ppp_report_msg_sockaddr(name, &a, &len),
			 -ENAMETOOLONG);
	name[107] = '\0';
	assert_int_equal(ppp_report_msg_sockaddr(name, &a, &len), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_sockaddr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
