-- 0013: secrets made once per database. "buttons" signs the buttons that must come from the
-- bot's own message to that person (a card's "Report a concern"), so that forged or borrowed
-- button data is refused.

CREATE TABLE secrets (
    name   TEXT PRIMARY KEY,
    value  BLOB NOT NULL
);
