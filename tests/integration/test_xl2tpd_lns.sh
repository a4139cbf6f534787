#!/bin/bash
# A real xl2tpd LAC establishes tunnels with tandem (frontend + worker +
# Redis) on loopback, with and without tunnel authentication, and places a
# call that tandem accepts. A tshark capture shows the whole exchange and
# must dissect clean; Redis must hold the tunnel and session. xl2tpd's own
# pppd fails afterwards on this kernel (no /dev/ppp): expected, not ours.
. "$(dirname "$0")/lib.sh"
echo "xl2tpd LAC -> tandem LNS"
LNS=$(rand_lo)
LAC=$(rand_lo)
start_redis || { bad "redis-server did not start"; finish xl2tpd-lns; exit 1; }
write_conf "$WORK/t.conf" "$LNS:1701" "secret sesame"
write_conf "$WORK/t-noauth.conf" "$LNS:1701"

# run_case NAME CONF LAC_SECRET CHALLENGE: start tandem with CONF, xl2tpd LAC
run_case() {
	local name=$1 conf=$2 lsecret=$3 challenge=$4
	local d="$WORK/$name"
	mkdir -p "$d"
	rcli flushall >/dev/null
	start_worker "w-$name" "$conf"
	local wpid=$!
	start_frontend "f-$name" "$conf"
	local fpid=$!
	if ! wait_for 10 cluster_ready; then
		bad "$name: cluster did not become ready"
		kill "$wpid" "$fpid"; return
	fi
	cat > "$d/lac.conf" <<EOT
[global]
listen-addr = $LAC
port = 1701
auth file = $d/secrets
[lac tandem]
lns = $LNS
autodial = yes
redial = no
require authentication = no
challenge = $challenge
name = subscriber
pppoptfile = $d/ppp.opts
length bit = yes
EOT
	if [ -n "$lsecret" ]; then echo "* * $lsecret" > "$d/secrets"; else : > "$d/secrets"; fi
	printf 'noauth\nnoccp\n' > "$d/ppp.opts"
	tshark -i lo -f "udp port 1701 and host $LNS" -w "$d/cap.pcap" -q > "$d/tshark.log" 2>&1 &
	local tpid=$!
	PIDS+=($tpid)
	wait_for 5 grep -q 'Capturing on' "$d/tshark.log"
	sleep 1 # dumpcap announces itself a moment before packets flow
	/usr/sbin/xl2tpd -D -c "$d/lac.conf" -p "$d/xl2tpd.pid" -C "$d/ctl" > "$d/xl2tpd.log" 2>&1 &
	local xpid=$!
	PIDS+=($xpid)
	# bounded: the call is up when xl2tpd logs it, or we give up after 15 s
	wait_for 15 grep -qE 'Call established|StopCCN|Connection .* closed' "$d/xl2tpd.log"
	sleep 1
	kill "$xpid"; wait "$xpid" 2>/dev/null
	sleep 0.5
	kill "$tpid"; wait "$tpid" 2>/dev/null
	kill "$fpid" "$wpid"; wait "$fpid" "$wpid" 2>/dev/null
	tshark -r "$d/cap.pcap" -T fields -e ip.src -e l2tp.avp.message_type \
		-e l2tp.result_code -Y 'l2tp.type == 1' > "$d/msgs.txt" 2>/dev/null
}

has_msg() { # has_msg DIR SRC TYPE
	awk -v s="$2" -v t="$3" '$1 == s && $2 ~ "(^|,)" t "(,|$)" {f=1} END {exit !f}' "$1/msgs.txt"
}
no_icrp() { ! has_msg "$1" $LNS 11; }
clean_capture() { # a real capture, no malformed packets, no expert errors
	local n
	n=$(tshark -r "$1/cap.pcap" 2>/dev/null | wc -l)
	[ "$n" -ge 6 ] || return 1
	n=$(tshark -r "$1/cap.pcap" -Y '_ws.malformed || _ws.expert.severity >= "error"' 2>/dev/null | wc -l)
	[ "$n" -eq 0 ]
}

run_case noauth "$WORK/t-noauth.conf" "" no
d=$WORK/noauth
check "noauth: xl2tpd sent SCCRQ" has_msg "$d" "$LAC" 1
check "noauth: tandem answered SCCRP" has_msg "$d" $LNS 2
check "noauth: xl2tpd sent SCCCN" has_msg "$d" "$LAC" 3
check "noauth: xl2tpd placed a call (ICRQ)" has_msg "$d" "$LAC" 10
check "noauth: tandem accepted it (ICRP)" has_msg "$d" $LNS 11
check "noauth: xl2tpd connected it (ICCN)" has_msg "$d" "$LAC" 12
check "noauth: xl2tpd logged the call" grep -q 'Call established' "$d/xl2tpd.log"
check "noauth: capture dissects clean" clean_capture "$d"

run_case auth "$WORK/t.conf" sesame yes
d=$WORK/auth
check "auth: tandem answered SCCRP" has_msg "$d" $LNS 2
check "auth: tunnel authenticated both ways (ICRP after SCCCN)" has_msg "$d" $LNS 11
check "auth: capture dissects clean" clean_capture "$d"
n_chal=$(tshark -r "$d/cap.pcap" -Y 'l2tp.avp.type == 11' 2>/dev/null | wc -l)
check "auth: both sides sent a Challenge" [ "$n_chal" -ge 2 ]
n_resp=$(tshark -r "$d/cap.pcap" -Y 'l2tp.avp.type == 13' 2>/dev/null | wc -l)
check "auth: both sides sent a Challenge Response" [ "$n_resp" -ge 2 ]

# Wrong secret, xl2tpd challenging: xl2tpd finds tandem's response wrong.
run_case badauth-lac "$WORK/t.conf" wrong yes
d=$WORK/badauth-lac
check "wrong secret (LAC checks): xl2tpd rejects tandem's response" \
	grep -q 'Invalid challenge authentication' "$d/xl2tpd.log"
check "wrong secret (LAC checks): no call" no_icrp "$d"
# Wrong secret, only tandem challenging: tandem refuses the SCCCN.
run_case badauth-lns "$WORK/t.conf" wrong no
d=$WORK/badauth-lns
check "wrong secret (LNS checks): tandem sends StopCCN" has_msg "$d" $LNS 4
check "wrong secret (LNS checks): result 4, not authorized" \
	awk -v s=$LNS '$1 == s && $2 == 4 && $3 == 4 {f=1} END {exit !f}' "$d/msgs.txt"
check "wrong secret (LNS checks): no call" no_icrp "$d"

finish xl2tpd-lns
