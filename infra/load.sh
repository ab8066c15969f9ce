#!/usr/bin/env bash
# Load test of a deployed stack: sends COUNT delay items of MILLIS ms (FAIL_RATE of them fail) to the
# work queue, ten per SendMessageBatch, then prints the queue depths until the work is done.
#   infra/load.sh <work-queue-url> [COUNT=10000] [MILLIS=20] [FAIL_RATE=0]
set -euo pipefail
queue=$1
count=${2:-10000}
millis=${3:-20}
fail=${4:-0}
body="{\\\"type\\\":\\\"delay\\\",\\\"payload\\\":{\\\"millis\\\":$millis,\\\"failRate\\\":$fail}}"
sent=0
while [ "$sent" -lt "$count" ]; do
  entries=""
  for i in $(seq 0 9); do
    [ $((sent + i)) -lt "$count" ] || break
    entries="$entries{\"Id\":\"$i\",\"MessageBody\":\"$body\"},"
  done
  aws sqs send-message-batch --queue-url "$queue" --entries "[${entries%,}]" > /dev/null
  sent=$((sent + 10))
done
echo "sent $count items to $queue"
while true; do
  depth=$(aws sqs get-queue-attributes --queue-url "$queue" \
    --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible \
    --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' --output text)
  read -r visible inflight <<< "$depth"
  echo "$(date +%T) visible $visible, in flight $inflight"
  if [ "$visible" = 0 ] && [ "$inflight" = 0 ]; then
    break
  fi
  sleep 5
done
