/* The pppd backend (workers/ppp_pppd.c) with a stand-in for pppd: a shell
 * script on the pty that echoes what it reads (frames go to "pppd" HDLC
 * framed and come back as L2TP data messages) or exits with a pppd status
 * (the session is cleared with the matching CDN). Checks that every child is
 * reaped, every handle closed and no descriptor leaked; the ip-up hook's
 * reports; plus the pool parser, the exit-status table and the PPP
 * addresses in session records. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "l2tp_header.h"
#include "ppp_pppd.h"
#include "record.h"
#include "tunnel.h"

struct fake {
	struct lns_cfg cfg;
	struct lns_env env;
	struct tunnel t;
	struct session *s;
	struct ppp_pppd b;
	uv_loop_t loop;
	unsigned n_data;	/* data messages sent */
	uint8_t data[4096];	/* the last one */
	size_t data_len;	/* its length */
	unsigned hangups;	/* sessions cleared by pppd's end */
	uint16_t result, error; /* the last hangup's CDN */
	char script[64];	/* the stand-in pppd */
	unsigned dirtied;	/* tunnel marked for a checkpoint */
};

static void fake_output(void *ctx, struct tunnel *t, const uint8_t *pkt,
			size_t len)
{
	(void)ctx;
	(void)t;
	(void)pkt;
	(void)len;
}

static void fake_output_data(void *ctx, struct tunnel *t, const uint8_t *pkt,
			     size_t len)
{
	struct fake *f = ctx;
	(void)t;
	assert_true(len <= sizeof(f->data));
	memcpy(f->data, pkt, len);
	f->data_len = len;
	f->n_data++;
	uv_stop(&f->loop);
}

static void fake_dirty(void *ctx, struct tunnel *t)
{
	struct fake *f = ctx;
	(void)t;
	f->dirtied++;
}

/* The worker's lookup for the ip-up hook's reports: our one session. */
static struct session *fake_find(void *ctx, uint16_t tid, uint16_t sid)
{
	struct fake *f = ctx;
	return tid == f->t.tid ? tunnel_session_find(&f->t, sid) : NULL;
}

static void fake_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	memset(buf, 0x5a, len);
}

/* What the worker does: CDN, which closes the backend's side. */
static void fake_hangup(void *ctx, struct session *s, uint16_t result,
			uint16_t error)
{
	struct fake *f = ctx;
	f->hangups++;
	f->result = result;
	f->error = error;
	tunnel_session_close(&f->t, s, result, error, 0);
	f->s = NULL;
	uv_stop(&f->loop);
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void write_script(struct fake *f, const char *body)
{
	static unsigned n;
	snprintf(f->script, sizeof(f->script), "/tmp/tandem-fake-pppd-%d-%u",
		 (int)getpid(), n++);
	FILE *fp = fopen(f->script, "w");
	assert_non_null(fp);
	fprintf(fp, "#!/bin/sh\n%s\n", body);
	fclose(fp);
	chmod(f->script, 0755);
}

static void fake_setup_ho(struct fake *f, const char *body, const char *dev,
			  const char *ho_id)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(uv_loop_init(&f->loop), 0);
	write_script(f, body);
	f->cfg = (struct lns_cfg){.hostname = "lns",
				  .tx = {.our_rws = 8,
					 .retransmit_initial_ms = 1000,
					 .retransmit_max_ms = 8000,
					 .max_retries = 5},
				  .hold_ms = 1000,
				  .max_sessions = 4};
	struct ppp_pppd_cfg pc;
	memset(&pc, 0, sizeof(pc));
	snprintf(pc.pppd_path, sizeof(pc.pppd_path), "%s", f->script);
	snprintf(pc.dev_ppp, sizeof(pc.dev_ppp), "%s", dev);
	if (ho_id) {
		snprintf(pc.handover_prefix, sizeof(pc.handover_prefix),
			 "test%d", (int)getpid());
		snprintf(pc.handover_id, sizeof(pc.handover_id), "%s", ho_id);
		/* any executable will do: the stand-in pppd never runs it */
		snprintf(pc.hook_path, sizeof(pc.hook_path), "%s", f->script);
	}
	struct ppp_pppd_ops ops = {
		.hangup = fake_hangup, .find = fake_find, .ctx = f};
	ppp_pppd_init(&f->b, &f->loop, NULL, &pc, &ops);
	f->env = (struct lns_env){.cfg = &f->cfg,
				  .ppp = ppp_pppd_backend(&f->b),
				  .output = fake_output,
				  .output_data = fake_output_data,
				  .dirty = fake_dirty,
				  .random = fake_random,
				  .ctx = f};
	assert_int_equal(tunnel_init(&f->t, &f->env, 0x0201, 0), 0);
	f->t.state = TUNNEL_ESTABLISHED;
	f->t.peer_tid = 0x0777;
	f->s = tunnel_session_add(&f->t, 9);
	assert_non_null(f->s);
	f->s->peer_sid = 0x0033;
	f->s->state = SESSION_ESTABLISHED;
	f->s->ppp_family = 4;
	memcpy(f->s->ppp_local, (uint8_t[]){198, 51, 100, 1}, 4);
	memcpy(f->s->ppp_remote, (uint8_t[]){198, 51, 100, 7}, 4);
}

static void fake_setup(struct fake *f, const char *body, const char *dev)
{
	fake_setup_ho(f, body, dev, NULL);
}

/* Run the loop until everything the backend started has been closed. */
static void fake_teardown(struct fake *f)
{
	tunnel_free(&f->t);
	ppp_pppd_free(&f->b);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	for (int i = 0; i < 100 && f->b.sessions; i++)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_null(f->b.sessions);
	assert_int_equal(f->b.stats.running, 0);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	unlink(f->script);
}

/* Bounded run: until a callback stops the loop or 5 s pass. */
static void run_until(struct fake *f, unsigned *counter, unsigned want)
{
	uint64_t end = uv_now(&f->loop) + 5000;
	while (*counter < want && uv_now(&f->loop) < end) {
		uv_run(&f->loop, UV_RUN_ONCE);
		uv_update_time(&f->loop);
	}
	assert_int_equal(*counter, want);
}

static void test_relay_echo(void **state)
{
	static struct fake f;
	static const uint8_t lcp[] = {0xc0, 0x21, 0x01, 0x01, 0x00,
				      0x08, 0x07, 0x02, 0x7e, 0x7d};
	(void)state;
	int fds = count_fds();
	fake_setup(&f, "exec cat >&0 2>/dev/null", "/dev/null");
	assert_int_equal(f.env.ppp.open(f.env.ppp.ctx, f.s), 0);
	assert_int_equal(f.b.stats.running, 1);
	/* The LAC's frame (no FF 03) goes to "pppd" framed; it comes back and
	 * leaves as a data message to the LAC's IDs, FF 03 in front. */
	tunnel_rx_data(&f.t,
		       &(struct l2tp_header){.tunnel_id = 0x0201,
					     .session_id = 9,
					     .payload_off = 0,
					     .payload_len = sizeof(lcp)},
		       lcp, sizeof(lcp));
	assert_int_equal(f.b.stats.frames_in, 1);
	run_until(&f, &f.n_data, 1);
	struct l2tp_header h;
	assert_int_equal(l2tp_header_decode(f.data, f.data_len, &h, NULL), 0);
	assert_false(h.control);
	assert_int_equal(h.tunnel_id, 0x0777);
	assert_int_equal(h.session_id, 0x0033);
	assert_int_equal(h.payload_len, sizeof(lcp) + 2);
	assert_int_equal(f.data[h.payload_off], 0xff);
	assert_int_equal(f.data[h.payload_off + 1], 0x03);
	assert_memory_equal(f.data + h.payload_off + 2, lcp, sizeof(lcp));
	assert_int_equal(f.b.stats.frames_out, 1);
	/* CDN from the LAC: pppd is signalled and reaped, no CDN of ours. */
	tunnel_session_close(&f.t, f.s, 3, 0, 0);
	fake_teardown(&f);
	assert_int_equal(f.b.stats.exited, 1);
	assert_int_equal(f.hangups, 0);
	assert_int_equal(count_fds(), fds);
}

static void test_pppd_exit_clears_session(void **state)
{
	static struct fake f;
	(void)state;
	int fds = count_fds();
	fake_setup(&f, "exit 16", "/dev/null");
	assert_int_equal(f.env.ppp.open(f.env.ppp.ctx, f.s), 0);
	run_until(&f, &f.hangups, 1);
	assert_int_equal(f.result, L2TP_CDN_LOST_CARRIER);
	assert_int_equal(f.t.n_sessions, 0);
	assert_int_equal(f.b.stats.hangups, 1);
	fake_teardown(&f);
	assert_int_equal(count_fds(), fds);
}

static void test_detach_on_free(void **state)
{
	static struct fake f;
	(void)state;
	int fds = count_fds();
	/* A pppd that ignores SIGTERM still goes once its tty hangs up. */
	fake_setup(&f, "trap '' TERM; exec cat >&0 2>/dev/null", "/dev/null");
	assert_int_equal(f.env.ppp.open(f.env.ppp.ctx, f.s), 0);
	fake_teardown(&f); /* tunnel_free: detach, not close */
	assert_int_equal(f.hangups, 0);
	assert_int_equal(f.b.stats.exited, 1);
	assert_int_equal(count_fds(), fds);
}

static void noop_timer(uv_timer_t *t)
{
	(void)t;
}

/* Drain on one host: worker a hands the pty of its running pppd to worker
 * b, which relays for the same process; a neither signals nor reaps it. */
static void test_handover(void **state)
{
	static struct fake a, b;
	static const uint8_t ipcp[] = {0x80, 0x21, 0x01, 0x02, 0x00, 0x04};
	char prefix[32];
	(void)state;
	int fds = count_fds();
	fake_setup_ho(&a, "exec cat >&0 2>/dev/null", "/dev/null", "a");
	fake_setup_ho(&b, "exit 3", "/dev/null", "b");
	assert_true(a.b.ho_on && b.b.ho_on);
	assert_int_equal(a.env.ppp.open(a.env.ppp.ctx, a.s), 0);
	/* one round trip through a: "pppd" is up and relaying */
	tunnel_rx_data(&a.t,
		       &(struct l2tp_header){.tunnel_id = 0x0201,
					     .session_id = 9,
					     .payload_len = sizeof(ipcp)},
		       ipcp, sizeof(ipcp));
	run_until(&a, &a.n_data, 1);
	int pid;
	snprintf(prefix, sizeof(prefix), "test%d", (int)getpid());
	assert_true(ppp_handover_connect(prefix, "nobody") < 0);
	int sock = ppp_handover_connect(prefix, "b");
	assert_true(sock >= 0);
	assert_int_equal(ppp_pppd_handover(&a.b, sock, a.s), 0);
	assert_int_equal(ppp_pppd_handover(&a.b, sock, a.s), -ENOENT);
	close(sock);
	/* the hand-over handles are unref'd (the worker's other handles keep
	 * its loop running): a timer stands in for them */
	uv_timer_t keep;
	uv_timer_init(&b.loop, &keep);
	uv_timer_start(&keep, noop_timer, 1, 1);
	unsigned got = 0;
	for (int i = 0; i < 500 && !got; i++) {
		uv_run(&b.loop, UV_RUN_ONCE);
		got = (unsigned)b.b.ho.received;
	}
	uv_close((uv_handle_t *)&keep, NULL);
	assert_int_equal(got, 1);
	pid = b.b.ho.entries[0].pid;
	assert_true(pid > 0);
	/* a lets go of the session: no signal, pppd keeps running */
	fake_teardown(&a);
	assert_int_equal(kill(pid, 0), 0);
	/* b's session (same IDs) takes the pty instead of starting pppd */
	assert_int_equal(b.env.ppp.open(b.env.ppp.ctx, b.s), 0);
	assert_int_equal(b.b.stats.adopted, 1);
	assert_int_equal(b.b.stats.spawned, 0);
	tunnel_rx_data(&b.t,
		       &(struct l2tp_header){.tunnel_id = 0x0201,
					     .session_id = 9,
					     .payload_len = sizeof(ipcp)},
		       ipcp, sizeof(ipcp));
	run_until(&b, &b.n_data, 1);
	assert_memory_equal(b.data + b.data_len - sizeof(ipcp), ipcp,
			    sizeof(ipcp));
	/* b ends the session: hang-up and SIGTERM through the pidfd */
	tunnel_session_close(&b.t, b.s, 3, 0, 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid); /* our child here */
	assert_true(WIFSIGNALED(status) || WIFEXITED(status));
	fake_teardown(&b);
	assert_int_equal(b.hangups, 0);
	assert_int_equal(count_fds(), fds);
}

/* One report to worker f's report socket from sock; the answer. */
static void report(struct fake *f, int sock, const char *text, char *reply,
		   size_t len)
{
	uv_timer_t keep; /* the report handle is unref'd */
	uv_timer_init(&f->loop, &keep);
	uv_timer_start(&keep, noop_timer, 1, 1);
	assert_int_equal(send(sock, text, strlen(text), 0),
			 (ssize_t)strlen(text));
	ssize_t n = -1;
	for (int i = 0; i < 500 && n < 0; i++) {
		uv_run(&f->loop, UV_RUN_ONCE);
		n = recv(sock, reply, len - 1, MSG_DONTWAIT);
	}
	uv_close((uv_handle_t *)&keep, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_true(n > 0);
	reply[n] = '\0';
}

/* pppd's ip-up hook reports what IPCP negotiated: pppd is told to run the
 * hook and where to report; the worker takes the addresses of its own
 * pppd's session only, marks the session for a checkpoint, and counts and
 * answers every report. */
static void test_report(void **state)
{
	static struct fake f;
	char body[256], args[64], line[512], want[128], text[256], reply[64];
	struct sockaddr_un a;
	socklen_t alen;
	(void)state;
	int fds = count_fds();
	snprintf(args, sizeof(args), "/tmp/tandem-fake-args-%d", (int)getpid());
	snprintf(body, sizeof(body),
		 "echo \"$@\" > %s; exec cat >&0 2>/dev/null", args);
	unlink(args);
	fake_setup_ho(&f, body, "/dev/null", "r");
	assert_true(f.b.rep_on);
	assert_int_equal(f.env.ppp.open(f.env.ppp.ctx, f.s), 0);
	int pid = ppp_pppd_session_pid(f.s);
	assert_true(pid > 0);
	/* pppd's command line names the hook and the socket */
	FILE *fp = NULL;
	for (int i = 0; i < 500 && !(fp && fgets(line, sizeof(line), fp));
	     i++) {
		if (fp)
			fclose(fp);
		usleep(10000);
		fp = fopen(args, "r");
	}
	assert_non_null(fp);
	fclose(fp);
	unlink(args);
	snprintf(
		want, sizeof(want),
		"ip-up-script %s set TANDEM_REPORT=@tandem-ppp-report/test%d/r",
		f.script, (int)getpid());
	assert_non_null(strstr(line, want));
	assert_non_null(
		strstr(line, "ipparam 513/9 198.51.100.1:198.51.100.7"));

	int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un self = {.sun_family = AF_UNIX};
	assert_int_equal(
		bind(sock, (struct sockaddr *)&self, sizeof(sa_family_t)), 0);
	assert_int_equal(ppp_report_msg_sockaddr(f.b.rep.name, &a, &alen), 0);
	assert_int_equal(connect(sock, (struct sockaddr *)&a, alen), 0);
	report(&f, sock, "garbage", reply, sizeof(reply));
	assert_string_equal(reply, "1 error malformed");
	struct ppp_report_msg m = {.tid = 513,
				   .sid = 9,
				   .pid = pid + 1,
				   .local = 0xc0000201,	 /* 192.0.2.1 */
				   .remote = 0xc6336432, /* 198.51.100.50 */
				   .ifname = "ppp7"};
	assert_true(ppp_report_msg_encode(&m, text, sizeof(text)) > 0);
	report(&f, sock, text, reply, sizeof(reply));
	assert_string_equal(reply, "1 error wrong_pid");
	m.pid = pid;
	m.sid = 10;
	assert_true(ppp_report_msg_encode(&m, text, sizeof(text)) > 0);
	report(&f, sock, text, reply, sizeof(reply));
	assert_string_equal(reply, "1 error unknown_session");
	/* nothing moved so far */
	assert_memory_equal(f.s->ppp_remote, ((uint8_t[]){198, 51, 100, 7}), 4);
	m.sid = 9;
	unsigned dirtied = f.dirtied;
	f.s->dirty = false;
	assert_true(ppp_report_msg_encode(&m, text, sizeof(text)) > 0);
	report(&f, sock, text, reply, sizeof(reply));
	assert_string_equal(reply, "1 ok learned");
	assert_int_equal(f.s->ppp_family, 4);
	assert_memory_equal(f.s->ppp_local, ((uint8_t[]){192, 0, 2, 1}), 4);
	assert_memory_equal(f.s->ppp_remote, ((uint8_t[]){198, 51, 100, 50}),
			    4);
	assert_true(f.s->dirty);
	assert_true(f.dirtied > dirtied);
	report(&f, sock, text, reply, sizeof(reply));
	assert_string_equal(reply, "1 ok unchanged");
	assert_int_equal(f.b.rep.results[PPP_REPORT_LEARNED], 1);
	assert_int_equal(f.b.rep.results[PPP_REPORT_UNCHANGED], 1);
	assert_int_equal(f.b.rep.results[PPP_REPORT_MALFORMED], 1);
	assert_int_equal(f.b.rep.results[PPP_REPORT_WRONG_PID], 1);
	assert_int_equal(f.b.rep.results[PPP_REPORT_UNKNOWN_SESSION], 1);
	assert_int_equal(f.b.rep.results[PPP_REPORT_DENIED], 0);
	close(sock);
	tunnel_session_close(&f.t, f.s, 3, 0, 0);
	fake_teardown(&f);
	assert_int_equal(f.hangups, 0);
	assert_int_equal(count_fds(), fds);
}

static void test_no_dev_ppp(void **state)
{
	static struct fake f;
	(void)state;
	fake_setup(&f, "exit 0", "/nonexistent/ppp");
	assert_false(f.b.usable);
	assert_int_equal(f.env.ppp.open(f.env.ppp.ctx, f.s), -ENODEV);
	assert_int_equal(f.b.stats.refused, 1);
	assert_int_equal(f.b.stats.spawned, 0);
	f.s->state = SESSION_WAIT_CONNECT; /* never attached */
	fake_teardown(&f);
}

static void test_exit_result(void **state)
{
	uint16_t r, e;
	(void)state;
	ppp_pppd_exit_result(0, 0, &r, &e);
	assert_int_equal(r, L2TP_CDN_ADMIN);
	ppp_pppd_exit_result(16, 0, &r, &e);
	assert_int_equal(r, L2TP_CDN_LOST_CARRIER);
	ppp_pppd_exit_result(15, 0, &r, &e);
	assert_int_equal(r, L2TP_CDN_LOST_CARRIER);
	ppp_pppd_exit_result(11, 0, &r, &e);
	assert_int_equal(r, L2TP_CDN_GENERAL_ERROR);
	assert_int_equal(e, L2TP_ERR_VENDOR);
	ppp_pppd_exit_result(4, 0, &r, &e);
	assert_int_equal(r, L2TP_CDN_NO_FACILITIES_PERM);
	ppp_pppd_exit_result(0, 9, &r, &e);
	assert_int_equal(r, L2TP_CDN_GENERAL_ERROR);
}

static void test_pool_parse(void **state)
{
	struct ppp_pool p;
	char err[128];
	(void)state;
	assert_int_equal(
		ppp_pool_parse("198.51.100.0/24", &p, err, sizeof(err)), 0);
	assert_int_equal(p.local, 0xc6336401);
	assert_int_equal(p.first, 0xc6336402);
	assert_int_equal(p.last, 0xc63364fe);
	assert_string_equal(p.name, "198.51.100.0/24");
	assert_int_equal(ppp_pool_parse("10.0.0.0/30", &p, err, sizeof(err)),
			 0);
	assert_int_equal(p.first, p.last); /* .1 ours, .2 theirs */
	assert_int_equal(
		ppp_pool_parse("198.51.100.1/24", &p, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "host bits"));
	assert_int_equal(ppp_pool_parse("10.0.0.0/31", &p, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(ppp_pool_parse("10.0.0.0", &p, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(ppp_pool_parse("10.0.0.0/2x", &p, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(ppp_pool_parse("banana/24", &p, err, sizeof(err)),
			 -EINVAL);
	char a[16];
	ppp_pool_addr_text(0xc6336402, a, sizeof(a));
	assert_string_equal(a, "198.51.100.2");
}

static void test_record_keeps_addresses(void **state)
{
	static struct fake f;
	uint8_t buf[RECORD_SESSION_MAX];
	struct record_session_info si;
	struct tunnel t2;
	(void)state;
	fake_setup(&f, "exit 0", "/dev/null");
	int n = record_session_encode(f.s, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(record_session_decode(buf, (size_t)n, &si), 0);
	assert_int_equal(si.ppp_family, 4);
	assert_memory_equal(si.ppp_remote, ((uint8_t[]){198, 51, 100, 7}), 4);
	assert_int_equal(tunnel_init(&t2, &f.env, 0x0201, 0), 0);
	assert_int_equal(record_session_restore(&t2, buf, (size_t)n), 0);
	struct session *s2 = tunnel_session_find(&t2, 9);
	assert_non_null(s2);
	assert_int_equal(s2->ppp_family, 4);
	assert_memory_equal(s2->ppp_local, ((uint8_t[]){198, 51, 100, 1}), 4);
	assert_memory_equal(s2->ppp_remote, ((uint8_t[]){198, 51, 100, 7}), 4);
	s2->state = SESSION_IDLE; /* nothing attached to free */
	tunnel_free(&t2);
	f.s->state = SESSION_IDLE;
	fake_teardown(&f);
}

int main(void)
{
	/* libuv opens a process-wide signal pipe on first use and keeps it:
	 * open it before any test counts descriptors. */
	uv_loop_t l;
	uv_signal_t sig;
	uv_loop_init(&l);
	uv_signal_init(&l, &sig);
	uv_close((uv_handle_t *)&sig, NULL);
	uv_run(&l, UV_RUN_DEFAULT);
	uv_loop_close(&l);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_echo),
		cmocka_unit_test(test_pppd_exit_clears_session),
		cmocka_unit_test(test_detach_on_free),
		cmocka_unit_test(test_handover),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_no_dev_ppp),
		cmocka_unit_test(test_exit_result),
		cmocka_unit_test(test_pool_parse),
		cmocka_unit_test(test_record_keeps_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
