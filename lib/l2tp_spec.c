/* Which AVPs each control message must and may carry, RFC 2661 section 6.
 * Random Vector may precede hidden AVPs in any message, so it is optional in
 * all of them. Call-management messages (6.6-6.14) clear the session on error;
 * the rest clear the tunnel. */
#include <stddef.h>

#include "l2tp_msg.h"

#define B(t) ((uint64_t)1 << L2TP_AVP_##t)
#define ANY  B(RANDOM_VECTOR)

static const struct l2tp_msg_spec l2tp_specs[] = {
	/* 6.1 */
	{L2TP_MSG_SCCRQ, false,
	 B(MESSAGE_TYPE) | B(PROTOCOL_VERSION) | B(HOST_NAME) |
		 B(FRAMING_CAPABILITIES) | B(ASSIGNED_TUNNEL_ID),
	 ANY | B(BEARER_CAPABILITIES) | B(RECEIVE_WINDOW_SIZE) | B(CHALLENGE) |
		 B(TIE_BREAKER) | B(FIRMWARE_REVISION) | B(VENDOR_NAME)},
	/* 6.2 */
	{L2TP_MSG_SCCRP, false,
	 B(MESSAGE_TYPE) | B(PROTOCOL_VERSION) | B(FRAMING_CAPABILITIES) |
		 B(HOST_NAME) | B(ASSIGNED_TUNNEL_ID),
	 ANY | B(BEARER_CAPABILITIES) | B(FIRMWARE_REVISION) | B(VENDOR_NAME) |
		 B(RECEIVE_WINDOW_SIZE) | B(CHALLENGE) | B(CHALLENGE_RESPONSE)},
	/* 6.3 */
	{L2TP_MSG_SCCCN, false, B(MESSAGE_TYPE), ANY | B(CHALLENGE_RESPONSE)},
	/* 6.4 */
	{L2TP_MSG_STOPCCN, false,
	 B(MESSAGE_TYPE) | B(ASSIGNED_TUNNEL_ID) | B(RESULT_CODE), ANY},
	/* 6.5 */
	{L2TP_MSG_HELLO, false, B(MESSAGE_TYPE), ANY},
	/* 6.9 */
	{L2TP_MSG_OCRQ, true,
	 B(MESSAGE_TYPE) | B(ASSIGNED_SESSION_ID) | B(CALL_SERIAL_NUMBER) |
		 B(MINIMUM_BPS) | B(MAXIMUM_BPS) | B(BEARER_TYPE) |
		 B(FRAMING_TYPE) | B(CALLED_NUMBER),
	 ANY | B(SUB_ADDRESS)},
	/* 6.10 */
	{L2TP_MSG_OCRP, true, B(MESSAGE_TYPE) | B(ASSIGNED_SESSION_ID),
	 ANY | B(PHYSICAL_CHANNEL_ID)},
	/* 6.11 */
	{L2TP_MSG_OCCN, true,
	 B(MESSAGE_TYPE) | B(TX_CONNECT_SPEED) | B(FRAMING_TYPE),
	 ANY | B(RX_CONNECT_SPEED) | B(SEQUENCING_REQUIRED)},
	/* 6.6 */
	{L2TP_MSG_ICRQ, true,
	 B(MESSAGE_TYPE) | B(ASSIGNED_SESSION_ID) | B(CALL_SERIAL_NUMBER),
	 ANY | B(BEARER_TYPE) | B(PHYSICAL_CHANNEL_ID) | B(CALLING_NUMBER) |
		 B(CALLED_NUMBER) | B(SUB_ADDRESS)},
	/* 6.7 */
	{L2TP_MSG_ICRP, true, B(MESSAGE_TYPE) | B(ASSIGNED_SESSION_ID), ANY},
	/* 6.8 */
	{L2TP_MSG_ICCN, true,
	 B(MESSAGE_TYPE) | B(TX_CONNECT_SPEED) | B(FRAMING_TYPE),
	 ANY | B(INITIAL_RECEIVED_LCP_CONFREQ) | B(LAST_SENT_LCP_CONFREQ) |
		 B(LAST_RECEIVED_LCP_CONFREQ) | B(PROXY_AUTHEN_TYPE) |
		 B(PROXY_AUTHEN_NAME) | B(PROXY_AUTHEN_CHALLENGE) |
		 B(PROXY_AUTHEN_ID) | B(PROXY_AUTHEN_RESPONSE) |
		 B(PRIVATE_GROUP_ID) | B(RX_CONNECT_SPEED) |
		 B(SEQUENCING_REQUIRED)},
	/* 6.12 */
	{L2TP_MSG_CDN, true,
	 B(MESSAGE_TYPE) | B(RESULT_CODE) | B(ASSIGNED_SESSION_ID),
	 ANY | B(Q931_CAUSE_CODE)},
	/* 6.13 */
	{L2TP_MSG_WEN, true, B(MESSAGE_TYPE) | B(CALL_ERRORS), ANY},
	/* 6.14 */
	{L2TP_MSG_SLI, true, B(MESSAGE_TYPE) | B(ACCM), ANY},
};

const struct l2tp_msg_spec *l2tp_msg_spec_get(unsigned type)
{
	for (size_t i = 0; i < sizeof(l2tp_specs) / sizeof(l2tp_specs[0]); i++)
		if (l2tp_specs[i].type == type)
			return &l2tp_specs[i];
	return NULL;
}
