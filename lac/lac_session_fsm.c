/* The LAC incoming-call state machine as a table. Ref: RFC 2661 section 7.4.1
 * ("LAC Incoming Call States"): a call ends back in idle, so its slot can
 * place the next call. Pairs not listed are refused and move nothing. */
#include <errno.h>
#include <stddef.h>

#include "lac_tunnel.h"
#include "log.h"

static const struct {
	enum lac_session_state from;
	enum lac_session_event ev;
	enum lac_session_state to;
} lac_session_fsm_table[] = {
	/* idle: bearer ring / local open -> send ICRQ */
	{LAC_SESSION_IDLE, LAC_SESSION_EV_OPEN, LAC_SESSION_WAIT_REPLY},
	/* wait-reply: ICRP acceptable -> send ICCN; not acceptable -> send
	 * CDN; CDN received or tunnel gone -> clean up */
	{LAC_SESSION_WAIT_REPLY, LAC_SESSION_EV_RX_ICRP_OK,
	 LAC_SESSION_WAIT_ICCN_ACK},
	{LAC_SESSION_WAIT_REPLY, LAC_SESSION_EV_RX_ICRP_BAD, LAC_SESSION_IDLE},
	{LAC_SESSION_WAIT_REPLY, LAC_SESSION_EV_RX_CDN, LAC_SESSION_IDLE},
	{LAC_SESSION_WAIT_REPLY, LAC_SESSION_EV_LOCAL_CLOSE, LAC_SESSION_IDLE},
	{LAC_SESSION_WAIT_REPLY, LAC_SESSION_EV_TUNNEL_DOWN, LAC_SESSION_IDLE},
	/* ICCN sent (7.4.1 "established"), waiting for its acknowledgement */
	{LAC_SESSION_WAIT_ICCN_ACK, LAC_SESSION_EV_ICCN_ACKED,
	 LAC_SESSION_ESTABLISHED},
	{LAC_SESSION_WAIT_ICCN_ACK, LAC_SESSION_EV_RX_CDN, LAC_SESSION_IDLE},
	{LAC_SESSION_WAIT_ICCN_ACK, LAC_SESSION_EV_LOCAL_CLOSE,
	 LAC_SESSION_IDLE},
	{LAC_SESSION_WAIT_ICCN_ACK, LAC_SESSION_EV_TUNNEL_DOWN,
	 LAC_SESSION_IDLE},
	/* established: CDN either way ends the call */
	{LAC_SESSION_ESTABLISHED, LAC_SESSION_EV_RX_CDN, LAC_SESSION_IDLE},
	{LAC_SESSION_ESTABLISHED, LAC_SESSION_EV_LOCAL_CLOSE, LAC_SESSION_IDLE},
	{LAC_SESSION_ESTABLISHED, LAC_SESSION_EV_TUNNEL_DOWN, LAC_SESSION_IDLE},
};

const char *lac_session_fsm_state_name(enum lac_session_state s)
{
	switch (s) {
#define LAC_X(name)                                                            \
	case LAC_SESSION_##name:                                               \
		return #name;
		LAC_SESSION_STATES(LAC_X)
#undef LAC_X
	}
	return "unknown";
}

const char *lac_session_fsm_event_name(enum lac_session_event e)
{
	switch (e) {
#define LAC_X(name)                                                            \
	case LAC_SESSION_EV_##name:                                            \
		return #name;
		LAC_SESSION_EVENTS(LAC_X)
#undef LAC_X
	}
	return "unknown";
}

int lac_session_fsm_step(struct lac_tunnel *t, struct lac_session *s,
			 enum lac_session_event e)
{
	for (size_t i = 0; i < sizeof(lac_session_fsm_table) /
				       sizeof(lac_session_fsm_table[0]);
	     i++) {
		if (lac_session_fsm_table[i].from != s->state ||
		    lac_session_fsm_table[i].ev != e)
			continue;
		enum lac_session_state from = s->state;
		s->state = (uint8_t)lac_session_fsm_table[i].to;
		log_debug("session state",
			  "tid=%u sid=%u peer_tid=%u peer_sid=%u old=%s new=%s "
			  "ev=%s",
			  t->tid, s->sid, t->peer_tid, s->peer_sid,
			  lac_session_fsm_state_name(from),
			  lac_session_fsm_state_name(
				  (enum lac_session_state)s->state),
			  lac_session_fsm_event_name(e));
		return 0;
	}
	return -EPROTO;
}
