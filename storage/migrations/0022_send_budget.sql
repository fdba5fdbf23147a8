-- 0022: one send budget for every instance sharing a PostgreSQL database (bot/delivery/budget.py).
-- Telegram counts its limits per bot, not per process: replies from every instance and the
-- outbox sender take their messages' slots here. On SQLite (one instance) the budget is kept in
-- the process and these tables stay empty; they exist on both engines so that copy-db finds
-- the same tables on each side.

-- Slots on one grid of the database server's clock (slot * spacing = epoch seconds, spacing
-- 1.06/30 s at 30 messages a second): each message takes one, so no second holds more than
-- 30. Kept a little over a minute: a group's 20 a minute is counted from them.
CREATE TABLE send_slots (
    slot        INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL
);
CREATE INDEX send_slots_chat ON send_slots (chat_id, slot);

-- A person's chat: the earliest its next message may go (epoch seconds): a gap after the
-- slot taken, then after Telegram's answer to it.
CREATE TABLE send_chats (
    chat_id     INTEGER PRIMARY KEY,
    next_at     REAL NOT NULL
);
CREATE INDEX send_chats_next ON send_chats (next_at);

-- A 429 met by any instance: nothing goes before until_at (epoch seconds). One row, id 1.
CREATE TABLE send_pause (
    id          INTEGER PRIMARY KEY,
    until_at    REAL NOT NULL
);
