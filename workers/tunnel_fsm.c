/* The LNS control-connection state machine as a table. Ref: RFC 2661 section
 * 7.2.1 ("Control Connection States"), with 5.7's hold period after StopCCN.
 * Any (state, event) pair not listed is a protocol error and moves nothing. */
#include <errno.h>
#include <stddef.h>

#include "tunnel.h"

void (*tunnel_fsm_trace)(const struct tunnel *t, enum tunnel_state from,
			 enum tunnel_state to, enum tunnel_event e);

static const struct {
	enum tunnel_state from;
	enum tunnel_event ev;
	enum tunnel_state to;
} tunnel_fsm_table[] = {
	/* idle: SCCRQ acceptable -> send SCCRP; not acceptable -> StopCCN */
	{TUNNEL_IDLE, TUNNEL_EV_RX_SCCRQ_OK, TUNNEL_WAIT_CTL_CONN},
	{TUNNEL_IDLE, TUNNEL_EV_RX_SCCRQ_BAD, TUNNEL_CLOSING},
	{TUNNEL_IDLE, TUNNEL_EV_LOCAL_CLOSE, TUNNEL_CLOSING},
	/* wait-ctl-conn: SCCCN acceptable -> established; else StopCCN */
	{TUNNEL_WAIT_CTL_CONN, TUNNEL_EV_RX_SCCCN_OK, TUNNEL_ESTABLISHED},
	{TUNNEL_WAIT_CTL_CONN, TUNNEL_EV_RX_SCCCN_BAD, TUNNEL_CLOSING},
	{TUNNEL_WAIT_CTL_CONN, TUNNEL_EV_RX_STOPCCN, TUNNEL_HOLD},
	{TUNNEL_WAIT_CTL_CONN, TUNNEL_EV_LOCAL_CLOSE, TUNNEL_CLOSING},
	{TUNNEL_WAIT_CTL_CONN, TUNNEL_EV_PEER_DEAD, TUNNEL_DEAD},
	/* established */
	{TUNNEL_ESTABLISHED, TUNNEL_EV_RX_STOPCCN, TUNNEL_HOLD},
	{TUNNEL_ESTABLISHED, TUNNEL_EV_LOCAL_CLOSE, TUNNEL_CLOSING},
	{TUNNEL_ESTABLISHED, TUNNEL_EV_PEER_DEAD, TUNNEL_DEAD},
	/* closing: our StopCCN is out; done when acknowledged (5.7) */
	{TUNNEL_CLOSING, TUNNEL_EV_STOPCCN_ACKED, TUNNEL_DEAD},
	{TUNNEL_CLOSING, TUNNEL_EV_RX_STOPCCN, TUNNEL_HOLD},
	{TUNNEL_CLOSING, TUNNEL_EV_PEER_DEAD, TUNNEL_DEAD},
	/* hold: keep acknowledging StopCCN retransmissions for a cycle (5.7) */
	{TUNNEL_HOLD, TUNNEL_EV_HOLD_EXPIRED, TUNNEL_DEAD},
	{TUNNEL_HOLD, TUNNEL_EV_PEER_DEAD, TUNNEL_DEAD},
};

const char *tunnel_state_name(enum tunnel_state s)
{
	switch (s) {
#define TUNNEL_X(name)                                                         \
	case TUNNEL_##name:                                                    \
		return #name;
		TUNNEL_STATES(TUNNEL_X)
#undef TUNNEL_X
	}
	return "unknown";
}

const char *tunnel_event_name(enum tunnel_event e)
{
	switch (e) {
#define TUNNEL_X(name)                                                         \
	case TUNNEL_EV_##name:                                                 \
		return #name;
		TUNNEL_EVENTS(TUNNEL_X)
#undef TUNNEL_X
	}
	return "unknown";
}

int tunnel_fsm_step(struct tunnel *t, enum tunnel_event e)
{
	for (size_t i = 0;
	     i < sizeof(tunnel_fsm_table) / sizeof(tunnel_fsm_table[0]); i++) {
		if (tunnel_fsm_table[i].from != t->state ||
		    tunnel_fsm_table[i].ev != e)
			continue;
		enum tunnel_state from = t->state;
		t->state = tunnel_fsm_table[i].to;
		if (tunnel_fsm_trace)
			tunnel_fsm_trace(t, from, t->state, e);
		return 0;
	}
	return -EPROTO;
}
