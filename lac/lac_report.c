/* tandem-lac's report (lac_report.h): the verdict, then key=value text lines
 * for people or one JSON object for tests. Result codes are written as
 * numbers with their RFC 2661 names from the codec's constant tables. */
#include "lac_report.h"

#include <errno.h>
#include <string.h>

#include "l2tp_const.h"

#define LAC_REPORT_TEXT_TUNNELS 16 /* text report lists this many tunnels */

static uint64_t lac_report_sum(const uint64_t *v, unsigned n)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < n; i++)
		sum += v[i];
	return sum;
}

bool lac_report_ok(const struct lac_opts *o, const struct lac_stats *s)
{
	if (s->tunnels_established != s->tunnels_requested)
		return false;
	if (lac_report_sum(s->tunnel_fail, LAC_WHY__COUNT) ||
	    lac_report_sum(s->tunnel_lost, LAC_WHY__COUNT) ||
	    s->tunnels_torn_down)
		return false;
	if (lac_report_sum(s->session_fail, LAC_WHY__COUNT) ||
	    s->sessions_lost_with_tunnel)
		return false;
	if (!o->churn && s->sessions_established < s->sessions_requested)
		return false;
	if (!o->allow_cdn && s->sessions_cleared_by_lns)
		return false;
	return true;
}

/* Name of result code slot i for StopCCN (stop) or CDN. */
static const char *lac_report_code_name(bool stop, unsigned i)
{
	if (i == LAC_CODE_SLOTS - 1)
		return "OTHER";
	return stop ? l2tp_stopccn_result_name(i) : l2tp_cdn_result_name(i);
}

static double lac_report_ms(uint64_t us)
{
	return (double)us / 1000.0;
}

/* --- text --- */

static void lac_report_text_codes(FILE *f, const char *label, bool stop,
				  const uint64_t *codes)
{
	if (!lac_report_sum(codes, LAC_CODE_SLOTS))
		return;
	fprintf(f, "%s:", label);
	for (unsigned i = 0; i < LAC_CODE_SLOTS; i++)
		if (codes[i])
			fprintf(f, " %u:%s=%llu", i,
				lac_report_code_name(stop, i),
				(unsigned long long)codes[i]);
	fputc('\n', f);
}

static void lac_report_text_why(FILE *f, const char *label, const uint64_t *why)
{
	if (!lac_report_sum(why, LAC_WHY__COUNT))
		return;
	fprintf(f, "%s:", label);
	for (unsigned i = 0; i < LAC_WHY__COUNT; i++)
		if (why[i])
			fprintf(f, " %s=%llu", lac_why_name((enum lac_why)i),
				(unsigned long long)why[i]);
	fputc('\n', f);
}

static void lac_report_text_hist(FILE *f, const char *label,
				 const struct lac_hist *h)
{
	fprintf(f,
		"%s: count=%llu p50=%.3f p90=%.3f p99=%.3f max=%.3f "
		"mean=%.3f\n",
		label, (unsigned long long)h->count,
		lac_report_ms(lac_hist_percentile_us(h, 0.50)),
		lac_report_ms(lac_hist_percentile_us(h, 0.90)),
		lac_report_ms(lac_hist_percentile_us(h, 0.99)),
		lac_report_ms(h->max_us),
		h->count ? lac_report_ms(h->sum_us / h->count) : 0.0);
}

/* --probe: a line per round; the times are "-" when none answered. */
static void lac_report_text_probes(FILE *f, const struct lac_probe *p)
{
	unsigned n = p ? p->n_rounds : 0;
	fprintf(f, "probes: rounds=%u\n", n);
	for (unsigned i = 0; i < n; i++) {
		const struct lac_probe_round *pr = &p->rounds[i];
		fprintf(f,
			"probe round=%u at_ms=%llu tunnels=%u answered=%u "
			"unanswered=%u",
			i + 1, (unsigned long long)pr->at_ms, pr->tunnels,
			pr->answered, pr->tunnels - pr->answered);
		if (pr->answered)
			fprintf(f, " p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
				lac_report_ms(
					lac_probe_percentile_us(pr, 0.50)),
				lac_report_ms(
					lac_probe_percentile_us(pr, 0.99)),
				lac_report_ms(
					lac_probe_percentile_us(pr, 1.0)));
		else
			fputs(" p50_ms=- p99_ms=- max_ms=-\n", f);
	}
}

static void lac_report_text(FILE *f, const struct lac_report *r)
{
	const struct lac_stats *s = r->stats;
	const struct lac_opts *o = r->opts;
	typedef unsigned long long ull;

	fprintf(f, "tandem-lac: lns=%s result=%s ended_by=%s elapsed_ms=%llu\n",
		o->lns_text, lac_report_ok(o, s) ? "PASS" : "FAIL", r->ended_by,
		(ull)s->elapsed_ms);
	fprintf(f,
		"tunnels: requested=%u opened=%llu established=%llu "
		"failed=%llu torn_down_by_lns=%llu lost=%llu closed=%llu "
		"close_unacked=%llu\n",
		s->tunnels_requested, (ull)s->tunnels_opened,
		(ull)s->tunnels_established,
		(ull)lac_report_sum(s->tunnel_fail, LAC_WHY__COUNT),
		(ull)s->tunnels_torn_down,
		(ull)lac_report_sum(s->tunnel_lost, LAC_WHY__COUNT),
		(ull)s->tunnels_closed, (ull)s->tunnels_close_unacked);
	lac_report_text_why(f, "tunnel failures", s->tunnel_fail);
	lac_report_text_codes(f, "tunnel failures by StopCCN result", true,
			      s->tunnel_fail_stopccn);
	lac_report_text_codes(f, "tunnels torn down by StopCCN result", true,
			      s->torn_down_stopccn);
	lac_report_text_why(f, "tunnels lost", s->tunnel_lost);
	fprintf(f,
		"sessions: requested=%llu attempted=%llu icrp_received=%llu "
		"established=%llu failed=%llu cleared_by_lns=%llu "
		"closed=%llu lost_with_tunnel=%llu aborted=%llu "
		"up_at_end=%llu\n",
		(ull)s->sessions_requested, (ull)s->sessions_attempted,
		(ull)s->icrp_received, (ull)s->sessions_established,
		(ull)lac_report_sum(s->session_fail, LAC_WHY__COUNT),
		(ull)s->sessions_cleared_by_lns, (ull)s->sessions_closed,
		(ull)s->sessions_lost_with_tunnel, (ull)s->sessions_aborted,
		(ull)s->sessions_up_at_end);
	lac_report_text_why(f, "session failures", s->session_fail);
	lac_report_text_codes(f, "session failures by CDN result", false,
			      s->session_fail_cdn);
	lac_report_text_codes(f, "sessions cleared by CDN result", false,
			      s->cleared_cdn);
	lac_report_text_hist(f, "setup_latency_ms", &s->setup_latency);
	lac_report_text_hist(f, "tunnel_setup_latency_ms", &s->tunnel_latency);
	fprintf(f,
		"messages: sent=%llu retransmitted=%llu zlb_sent=%llu "
		"send_errors=%llu datagrams_received=%llu delivered=%llu "
		"duplicates=%llu dropped=%llu rejected=%llu unexpected=%llu "
		"hello_sent=%llu hello_received=%llu\n",
		(ull)s->tx_messages, (ull)s->tx_retransmits, (ull)s->tx_zlb,
		(ull)s->tx_errors, (ull)s->rx_datagrams, (ull)s->rx_delivered,
		(ull)s->rx_duplicates, (ull)s->rx_dropped, (ull)s->rx_rejected,
		(ull)s->rx_unexpected, (ull)s->hello_sent,
		(ull)s->hello_received);
	if (o->data_ms)
		fprintf(f,
			"data: sent=%llu bytes=%llu blocked=%llu errors=%llu "
			"seconds=%.3f\n",
			(ull)s->data_sent, (ull)s->data_bytes,
			(ull)s->data_blocked, (ull)s->data_errors,
			(double)s->data_elapsed_us / 1e6);
	if (o->probe)
		lac_report_text_probes(f, r->probe);
	for (unsigned i = 0; i < r->n_tunnels && i < LAC_REPORT_TEXT_TUNNELS;
	     i++) {
		const struct lac_report_tunnel *t = &r->tunnels[i];
		fprintf(f,
			"tunnel lac_tid=%u lns_tid=%u port=%u state=%s ns=%u "
			"nr=%u unacked=%u sessions=%u",
			t->lac_tid, t->lns_tid, t->local_port, t->state, t->ns,
			t->nr, t->unacked, t->n_sessions);
		if (t->stop_received)
			fprintf(f, " stopccn_result=%u", t->stop_result);
		fputc('\n', f);
	}
	if (r->n_tunnels > LAC_REPORT_TEXT_TUNNELS)
		fprintf(f, "(%u more tunnels: see --json)\n",
			r->n_tunnels - LAC_REPORT_TEXT_TUNNELS);
}

/* --- JSON --- */

static void lac_report_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void lac_report_json_why(FILE *f, const char *key, const uint64_t *why)
{
	bool first = true;
	fprintf(f, ",\n  \"%s\": {", key);
	for (unsigned i = 0; i < LAC_WHY__COUNT; i++) {
		if (!why[i])
			continue;
		fprintf(f, "%s\"%s\": %llu", first ? "" : ", ",
			lac_why_name((enum lac_why)i),
			(unsigned long long)why[i]);
		first = false;
	}
	fputc('}', f);
}

static void lac_report_json_codes(FILE *f, const char *key, bool stop,
				  const uint64_t *codes)
{
	bool first = true;
	fprintf(f, ",\n  \"%s\": [", key);
	for (unsigned i = 0; i < LAC_CODE_SLOTS; i++) {
		if (!codes[i])
			continue;
		fprintf(f,
			"%s{\"result\": %u, \"name\": \"%s\", \"count\": %llu}",
			first ? "" : ", ", i, lac_report_code_name(stop, i),
			(unsigned long long)codes[i]);
		first = false;
	}
	fputc(']', f);
}

static void lac_report_json_hist(FILE *f, const char *key,
				 const struct lac_hist *h)
{
	fprintf(f,
		",\n  \"%s\": {\"count\": %llu, \"p50\": %.3f, \"p90\": %.3f, "
		"\"p99\": %.3f, \"min\": %.3f, \"max\": %.3f, \"mean\": %.3f}",
		key, (unsigned long long)h->count,
		lac_report_ms(lac_hist_percentile_us(h, 0.50)),
		lac_report_ms(lac_hist_percentile_us(h, 0.90)),
		lac_report_ms(lac_hist_percentile_us(h, 0.99)),
		lac_report_ms(h->count ? h->min_us : 0),
		lac_report_ms(h->max_us),
		h->count ? lac_report_ms(h->sum_us / h->count) : 0.0);
}

static void lac_report_json_u64(FILE *f, const char *key, uint64_t v)
{
	fprintf(f, ",\n  \"%s\": %llu", key, (unsigned long long)v);
}

static void lac_report_json_tunnel(FILE *f, const struct lac_report_tunnel *t)
{
	fprintf(f,
		"    {\"lac_tid\": %u, \"lns_tid\": %u, \"local_port\": %u, "
		"\"state\": \"%s\", \"ns\": %u, \"nr\": %u, \"unacked\": %u, "
		"\"stopccn_result\": ",
		t->lac_tid, t->lns_tid, t->local_port, t->state, t->ns, t->nr,
		t->unacked);
	if (t->stop_received)
		fprintf(f, "%u", t->stop_result);
	else
		fputs("null", f);
	fputs(", \"sessions\": [", f);
	for (unsigned i = 0; i < t->n_sessions; i++)
		fprintf(f, "%s{\"lns_sid\": %u, \"lac_sid\": %u}",
			i ? ", " : "", t->sessions[i].lns_sid,
			t->sessions[i].lac_sid);
	fputs("]}", f);
}

/* --probe: one object per round; the times are null when none answered. */
static void lac_report_json_probes(FILE *f, const struct lac_probe *p)
{
	unsigned n = p ? p->n_rounds : 0;
	fputs(",\n  \"probes\": [", f);
	for (unsigned i = 0; i < n; i++) {
		const struct lac_probe_round *pr = &p->rounds[i];
		fprintf(f,
			"%s\n    {\"tunnels\": %u, \"answered\": %u, "
			"\"unanswered\": %u, ",
			i ? "," : "", pr->tunnels, pr->answered,
			pr->tunnels - pr->answered);
		if (pr->answered)
			fprintf(f,
				"\"p50_ms\": %.3f, \"p99_ms\": %.3f, "
				"\"max_ms\": %.3f",
				lac_report_ms(
					lac_probe_percentile_us(pr, 0.50)),
				lac_report_ms(
					lac_probe_percentile_us(pr, 0.99)),
				lac_report_ms(
					lac_probe_percentile_us(pr, 1.0)));
		else
			fputs("\"p50_ms\": null, \"p99_ms\": null, "
			      "\"max_ms\": null",
			      f);
		fprintf(f, ", \"at_ms\": %llu}", (unsigned long long)pr->at_ms);
	}
	fputs(n ? "\n  ]" : "]", f);
}

static void lac_report_json(FILE *f, const struct lac_report *r)
{
	const struct lac_stats *s = r->stats;
	const struct lac_opts *o = r->opts;

	fputs("{\n  \"lns\": ", f);
	lac_report_json_str(f, o->lns_text);
	fprintf(f, ",\n  \"ok\": %s", lac_report_ok(o, s) ? "true" : "false");
	fprintf(f, ",\n  \"ended_by\": \"%s\"", r->ended_by);
	lac_report_json_u64(f, "elapsed_ms", s->elapsed_ms);
	lac_report_json_u64(f, "tunnels_requested", s->tunnels_requested);
	lac_report_json_u64(f, "tunnels_opened", s->tunnels_opened);
	lac_report_json_u64(f, "tunnels_established", s->tunnels_established);
	lac_report_json_u64(f, "tunnels_failed",
			    lac_report_sum(s->tunnel_fail, LAC_WHY__COUNT));
	lac_report_json_why(f, "tunnel_failures", s->tunnel_fail);
	lac_report_json_codes(f, "tunnel_failures_stopccn", true,
			      s->tunnel_fail_stopccn);
	lac_report_json_u64(f, "tunnels_torn_down_by_lns",
			    s->tunnels_torn_down);
	lac_report_json_codes(f, "tunnels_torn_down_by_result", true,
			      s->torn_down_stopccn);
	lac_report_json_u64(f, "tunnels_lost",
			    lac_report_sum(s->tunnel_lost, LAC_WHY__COUNT));
	lac_report_json_why(f, "tunnels_lost_by_reason", s->tunnel_lost);
	lac_report_json_u64(f, "tunnels_closed", s->tunnels_closed);
	lac_report_json_u64(f, "tunnels_close_unacked",
			    s->tunnels_close_unacked);
	lac_report_json_u64(f, "sessions_requested", s->sessions_requested);
	lac_report_json_u64(f, "sessions_attempted", s->sessions_attempted);
	lac_report_json_u64(f, "icrp_received", s->icrp_received);
	lac_report_json_u64(f, "sessions_established", s->sessions_established);
	lac_report_json_u64(f, "sessions_failed",
			    lac_report_sum(s->session_fail, LAC_WHY__COUNT));
	lac_report_json_why(f, "session_failures", s->session_fail);
	lac_report_json_codes(f, "session_failures_cdn", false,
			      s->session_fail_cdn);
	lac_report_json_u64(f, "sessions_cleared_by_lns",
			    s->sessions_cleared_by_lns);
	lac_report_json_codes(f, "sessions_cleared_by_result", false,
			      s->cleared_cdn);
	lac_report_json_u64(f, "sessions_closed", s->sessions_closed);
	lac_report_json_u64(f, "sessions_lost_with_tunnel",
			    s->sessions_lost_with_tunnel);
	lac_report_json_u64(f, "sessions_aborted", s->sessions_aborted);
	lac_report_json_u64(f, "sessions_up_at_end", s->sessions_up_at_end);
	lac_report_json_hist(f, "setup_latency_ms", &s->setup_latency);
	lac_report_json_hist(f, "tunnel_setup_latency_ms", &s->tunnel_latency);
	fprintf(f,
		",\n  \"messages\": {\"sent\": %llu, \"retransmitted\": %llu, "
		"\"zlb_sent\": %llu, \"send_errors\": %llu, "
		"\"datagrams_received\": %llu, \"delivered\": %llu, "
		"\"duplicates\": %llu, \"dropped\": %llu, \"rejected\": %llu, "
		"\"unexpected\": %llu, \"hello_sent\": %llu, "
		"\"hello_received\": %llu}",
		(unsigned long long)s->tx_messages,
		(unsigned long long)s->tx_retransmits,
		(unsigned long long)s->tx_zlb, (unsigned long long)s->tx_errors,
		(unsigned long long)s->rx_datagrams,
		(unsigned long long)s->rx_delivered,
		(unsigned long long)s->rx_duplicates,
		(unsigned long long)s->rx_dropped,
		(unsigned long long)s->rx_rejected,
		(unsigned long long)s->rx_unexpected,
		(unsigned long long)s->hello_sent,
		(unsigned long long)s->hello_received);
	if (o->data_ms)
		fprintf(f,
			",\n  \"data\": {\"sent\": %llu, \"bytes\": %llu, "
			"\"blocked\": %llu, \"errors\": %llu, "
			"\"seconds\": %.6f}",
			(unsigned long long)s->data_sent,
			(unsigned long long)s->data_bytes,
			(unsigned long long)s->data_blocked,
			(unsigned long long)s->data_errors,
			(double)s->data_elapsed_us / 1e6);
	if (o->probe)
		lac_report_json_probes(f, r->probe);
	fputs(",\n  \"tunnels\": [\n", f);
	for (unsigned i = 0; i < r->n_tunnels; i++) {
		lac_report_json_tunnel(f, &r->tunnels[i]);
		fputs(i + 1 < r->n_tunnels ? ",\n" : "\n", f);
	}
	fputs("  ]\n}\n", f);
}

int lac_report_write(FILE *f, const struct lac_report *r)
{
	if (r->opts->json)
		lac_report_json(f, r);
	else
		lac_report_text(f, r);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}
