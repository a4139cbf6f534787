/* Why a LAC tunnel or session ended or never came up: one X-macro table that
 * also yields the names the report and the logs use. */
#ifndef TANDEM_LAC_WHY_H
#define TANDEM_LAC_WHY_H

/* X(name, key, description) */
#define LAC_WHY_TABLE(X)                                                       \
	X(LOCAL, "local", "we closed it (hold time over or end of run)")       \
	X(STOPCCN, "stopccn", "the LNS sent StopCCN")                          \
	X(CDN, "cdn", "the LNS sent CDN")                                      \
	X(AUTH, "auth", "the LNS's Challenge Response was missing or wrong")   \
	X(NO_SECRET, "no_secret",                                              \
	  "the LNS challenged us but we have no secret")                       \
	X(BAD_VERSION, "bad_version",                                          \
	  "the LNS speaks another protocol version")                           \
	X(TIMEOUT, "timeout", "the LNS did not answer in time")                \
	X(BAD_MESSAGE, "bad_message", "a message from the LNS did not decode") \
	X(FSM_ERROR, "fsm_error", "a message not valid in this state")         \
	X(SEND_ERROR, "send_error",                                            \
	  "a message could not be encoded or queued")                          \
	X(SOCKET, "socket", "the tunnel's UDP socket could not be opened")     \
	X(TUNNEL_FAILED, "tunnel_failed", "its tunnel never came up")          \
	X(TUNNEL_DOWN, "tunnel_down", "its tunnel went down")                  \
	X(NOT_STARTED, "not_started", "the run ended before it was started")   \
	X(UNFINISHED, "unfinished", "the run ended while it was being set up")

enum lac_why {
#define LAC_X(name, key, desc) LAC_WHY_##name,
	LAC_WHY_TABLE(LAC_X)
#undef LAC_X
		LAC_WHY__COUNT
};

/* "stopccn"; "unknown" outside the table. */
const char *lac_why_name(enum lac_why w);
/* The description column. */
const char *lac_why_desc(enum lac_why w);

#endif
