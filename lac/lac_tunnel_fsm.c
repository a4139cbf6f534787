/* The LAC control-connection state machine as a table. Ref: RFC 2661 section
 * 7.2.1 ("Control Connection States", initiator side), with 5.7's hold after
 * StopCCN. Any (state, event) pair not listed is refused and moves nothing. */
#include <errno.h>
#include <stddef.h>

#include "lac_tunnel.h"
#include "log.h"

static const struct {
	enum lac_tunnel_state from;
	enum lac_tunnel_event ev;
	enum lac_tunnel_state to;
} lac_tunnel_fsm_table[] = {
	/* idle: local open request -> send SCCRQ */
	{LAC_TUNNEL_IDLE, LAC_TUNNEL_EV_OPEN, LAC_TUNNEL_WAIT_CTL_REPLY},
	/* wait-ctl-reply: SCCRP acceptable -> send SCCCN; not acceptable ->
	 * send StopCCN; StopCCN received -> clean up */
	{LAC_TUNNEL_WAIT_CTL_REPLY, LAC_TUNNEL_EV_RX_SCCRP_OK,
	 LAC_TUNNEL_WAIT_SCCCN_ACK},
	{LAC_TUNNEL_WAIT_CTL_REPLY, LAC_TUNNEL_EV_RX_SCCRP_BAD,
	 LAC_TUNNEL_CLOSING},
	{LAC_TUNNEL_WAIT_CTL_REPLY, LAC_TUNNEL_EV_RX_STOPCCN, LAC_TUNNEL_HOLD},
	{LAC_TUNNEL_WAIT_CTL_REPLY, LAC_TUNNEL_EV_LOCAL_CLOSE,
	 LAC_TUNNEL_CLOSING},
	{LAC_TUNNEL_WAIT_CTL_REPLY, LAC_TUNNEL_EV_PEER_DEAD, LAC_TUNNEL_DEAD},
	/* SCCCN sent (7.2.1 "established"), waiting for its acknowledgement */
	{LAC_TUNNEL_WAIT_SCCCN_ACK, LAC_TUNNEL_EV_SCCCN_ACKED,
	 LAC_TUNNEL_ESTABLISHED},
	{LAC_TUNNEL_WAIT_SCCCN_ACK, LAC_TUNNEL_EV_RX_STOPCCN, LAC_TUNNEL_HOLD},
	{LAC_TUNNEL_WAIT_SCCCN_ACK, LAC_TUNNEL_EV_LOCAL_CLOSE,
	 LAC_TUNNEL_CLOSING},
	{LAC_TUNNEL_WAIT_SCCCN_ACK, LAC_TUNNEL_EV_PEER_DEAD, LAC_TUNNEL_DEAD},
	/* established */
	{LAC_TUNNEL_ESTABLISHED, LAC_TUNNEL_EV_RX_STOPCCN, LAC_TUNNEL_HOLD},
	{LAC_TUNNEL_ESTABLISHED, LAC_TUNNEL_EV_LOCAL_CLOSE, LAC_TUNNEL_CLOSING},
	{LAC_TUNNEL_ESTABLISHED, LAC_TUNNEL_EV_PEER_DEAD, LAC_TUNNEL_DEAD},
	/* closing: our StopCCN is out; done when acknowledged (5.7) */
	{LAC_TUNNEL_CLOSING, LAC_TUNNEL_EV_STOPCCN_ACKED, LAC_TUNNEL_DEAD},
	{LAC_TUNNEL_CLOSING, LAC_TUNNEL_EV_RX_STOPCCN, LAC_TUNNEL_HOLD},
	{LAC_TUNNEL_CLOSING, LAC_TUNNEL_EV_PEER_DEAD, LAC_TUNNEL_DEAD},
	/* hold: keep acknowledging StopCCN retransmissions (5.7) */
	{LAC_TUNNEL_HOLD, LAC_TUNNEL_EV_HOLD_EXPIRED, LAC_TUNNEL_DEAD},
	{LAC_TUNNEL_HOLD, LAC_TUNNEL_EV_PEER_DEAD, LAC_TUNNEL_DEAD},
};

const char *lac_tunnel_fsm_state_name(enum lac_tunnel_state s)
{
	switch (s) {
#define LAC_X(name)                                                            \
	case LAC_TUNNEL_##name:                                                \
		return #name;
		LAC_TUNNEL_STATES(LAC_X)
#undef LAC_X
	}
	return "unknown";
}

const char *lac_tunnel_fsm_event_name(enum lac_tunnel_event e)
{
	switch (e) {
#define LAC_X(name)                                                            \
	case LAC_TUNNEL_EV_##name:                                             \
		return #name;
		LAC_TUNNEL_EVENTS(LAC_X)
#undef LAC_X
	}
	return "unknown";
}

int lac_tunnel_fsm_step(struct lac_tunnel *t, enum lac_tunnel_event e)
{
	for (size_t i = 0;
	     i < sizeof(lac_tunnel_fsm_table) / sizeof(lac_tunnel_fsm_table[0]);
	     i++) {
		if (lac_tunnel_fsm_table[i].from != t->state ||
		    lac_tunnel_fsm_table[i].ev != e)
			continue;
		enum lac_tunnel_state from = t->state;
		t->state = lac_tunnel_fsm_table[i].to;
		log_debug("tunnel state",
			  "tid=%u peer_tid=%u old=%s new=%s ev=%s", t->tid,
			  t->peer_tid, lac_tunnel_fsm_state_name(from),
			  lac_tunnel_fsm_state_name(t->state),
			  lac_tunnel_fsm_event_name(e));
		return 0;
	}
	return -EPROTO;
}
