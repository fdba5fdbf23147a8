-- 0022 on PostgreSQL: the tables of 0022_send_budget.sql (read it for what they hold), and
-- take_send_slot, which takes a message's slot in one round trip: under one advisory lock (the
-- budget's decisions are made one at a time, across instances), on the server's clock (the
-- instances need not agree on the time to a few milliseconds).

CREATE TABLE send_slots (
    slot        BIGINT PRIMARY KEY,
    chat_id     BIGINT NOT NULL
);
CREATE INDEX send_slots_chat ON send_slots (chat_id, slot);

CREATE TABLE send_chats (
    chat_id     BIGINT PRIMARY KEY,
    next_at     DOUBLE PRECISION NOT NULL
);
CREATE INDEX send_chats_next ON send_chats (next_at);

CREATE TABLE send_pause (
    id          BIGINT PRIMARY KEY,
    until_at    DOUBLE PRECISION NOT NULL
);

-- A slot for a message to p_chat: the first free one on the grid (p_spacing seconds apart) at
-- or after now, the pause, the chat's next_at (a person: p_gap after their last message) and,
-- for a group (p_chat < 0), p_window after the p_per_window-th latest slot it took. A reply
-- takes it however far ahead; bulk (the outbox sender) only within p_horizon, else it takes
-- nothing, so replies come first and the outbox gets what they leave. Returns whether it was
-- taken, the seconds until it (or until one might be), until the chat, the pause or the
-- group's minute would let a message go, and until the pause ends (0: none). Every 64th slot
-- purges a batch of old rows.
CREATE FUNCTION take_send_slot(
    p_chat BIGINT, p_bulk BOOLEAN, p_spacing DOUBLE PRECISION, p_gap DOUBLE PRECISION,
    p_per_window INTEGER, p_window DOUBLE PRECISION, p_horizon DOUBLE PRECISION
) RETURNS TABLE (
    taken BOOLEAN, wait DOUBLE PRECISION, chat_wait DOUBLE PRECISION, pause_wait DOUBLE PRECISION
)
LANGUAGE plpgsql AS $$
DECLARE
    now_s DOUBLE PRECISION;
    paused_s DOUBLE PRECISION;
    start_s DOUBLE PRECISION;
    nth BIGINT;
    k BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(1397050948);  -- 'SEND'
    now_s := extract(epoch FROM clock_timestamp());
    paused_s := GREATEST(now_s, COALESCE((SELECT until_at FROM send_pause WHERE id = 1), 0));
    start_s := GREATEST(
        paused_s, COALESCE((SELECT next_at FROM send_chats WHERE chat_id = p_chat), 0)
    );
    IF p_chat < 0 THEN
        SELECT slot INTO nth FROM send_slots WHERE chat_id = p_chat
            ORDER BY slot DESC OFFSET p_per_window - 1 LIMIT 1;
        IF FOUND THEN
            start_s := GREATEST(start_s, nth * p_spacing + p_window);
        END IF;
    END IF;
    k := ceil(start_s / p_spacing);
    WHILE EXISTS (SELECT 1 FROM send_slots WHERE slot = k) LOOP
        k := k + 1;
    END LOOP;
    IF p_bulk AND k * p_spacing > now_s + p_horizon THEN
        RETURN QUERY SELECT FALSE, k * p_spacing - now_s, start_s - now_s, paused_s - now_s;
        RETURN;
    END IF;
    INSERT INTO send_slots (slot, chat_id) VALUES (k, p_chat);
    IF p_chat > 0 THEN
        INSERT INTO send_chats (chat_id, next_at) VALUES (p_chat, k * p_spacing + p_gap)
            ON CONFLICT (chat_id) DO UPDATE
            SET next_at = GREATEST(send_chats.next_at, excluded.next_at);
    END IF;
    IF k % 64 = 0 THEN
        DELETE FROM send_slots WHERE slot IN (
            SELECT slot FROM send_slots WHERE slot < floor((now_s - p_window - 5) / p_spacing)
            ORDER BY slot LIMIT 1000);
        DELETE FROM send_chats WHERE chat_id IN (
            SELECT chat_id FROM send_chats WHERE next_at < now_s - 60 LIMIT 1000);
    END IF;
    RETURN QUERY SELECT TRUE, k * p_spacing - now_s, start_s - now_s, paused_s - now_s;
END $$;
