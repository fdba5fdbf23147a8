"""`make bench` and `make bench-scale` (python -m bench [scale]): timing goals, never tests."""

# The throughput benches measure how many updates the bot can handle, so their replies are
# not held to Telegram's limits (the send budget, which the delivery benches measure): not to
# 30 messages a second, with which every one of them would read 29 updates a second, nor to a
# second between two messages to one person, with which "find near me" (200 people asking 10
# times each) would read 190.
CAPACITY_SEND_RATE = 1e6
CAPACITY_CHAT_GAP_S = 0.0
