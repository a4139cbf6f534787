/* The LNS incoming-call state machine as a table. Ref: RFC 2661 section 7.4.2
 * ("LNS Incoming Call States"). Any (state, event) pair not listed is a
 * protocol error: the caller answers it, the state does not move. */
#include <errno.h>
#include <stddef.h>

#include "session.h"

void (*session_fsm_trace)(const struct session *s, enum session_state from,
			  enum session_state to, enum session_event e);

static const struct {
	enum session_state from;
	enum session_event ev;
	enum session_state to;
} session_fsm_table[] = {
	/* idle: ICRQ acceptable -> send ICRP; not acceptable -> send CDN */
	{SESSION_IDLE, SESSION_EV_RX_ICRQ_OK, SESSION_WAIT_CONNECT},
	{SESSION_IDLE, SESSION_EV_RX_ICRQ_BAD, SESSION_CLOSED},
	/* wait-connect: ICCN acceptable -> established; else send CDN */
	{SESSION_WAIT_CONNECT, SESSION_EV_RX_ICCN_OK, SESSION_ESTABLISHED},
	{SESSION_WAIT_CONNECT, SESSION_EV_RX_ICCN_BAD, SESSION_CLOSED},
	{SESSION_WAIT_CONNECT, SESSION_EV_RX_CDN, SESSION_CLOSED},
	{SESSION_WAIT_CONNECT, SESSION_EV_LOCAL_CLOSE, SESSION_CLOSED},
	{SESSION_WAIT_CONNECT, SESSION_EV_TUNNEL_DOWN, SESSION_CLOSED},
	/* established: CDN either way ends the call */
	{SESSION_ESTABLISHED, SESSION_EV_RX_CDN, SESSION_CLOSED},
	{SESSION_ESTABLISHED, SESSION_EV_LOCAL_CLOSE, SESSION_CLOSED},
	{SESSION_ESTABLISHED, SESSION_EV_TUNNEL_DOWN, SESSION_CLOSED},
};

const char *session_state_name(enum session_state s)
{
	switch (s) {
#define SESSION_X(name)                                                        \
	case SESSION_##name:                                                   \
		return #name;
		SESSION_STATES(SESSION_X)
#undef SESSION_X
	}
	return "unknown";
}

const char *session_event_name(enum session_event e)
{
	switch (e) {
#define SESSION_X(name)                                                        \
	case SESSION_EV_##name:                                                \
		return #name;
		SESSION_EVENTS(SESSION_X)
#undef SESSION_X
	}
	return "unknown";
}

int session_fsm_step(struct session *s, enum session_event e)
{
	for (size_t i = 0;
	     i < sizeof(session_fsm_table) / sizeof(session_fsm_table[0]);
	     i++) {
		if (session_fsm_table[i].from != s->state ||
		    session_fsm_table[i].ev != e)
			continue;
		enum session_state from = s->state;
		s->state = session_fsm_table[i].to;
		if (session_fsm_trace)
			session_fsm_trace(s, from, s->state, e);
		return 0;
	}
	return -EPROTO;
}
