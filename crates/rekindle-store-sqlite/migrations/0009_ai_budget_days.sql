-- LLM spending per account and UTC day, so that the daily budget holds across
-- every process of a fleet. A call first reserves its worst-case cost with one
-- conditional upsert (cost + reserved + estimate <= limit), then settles: the
-- reservation is released and the real cost added. Amounts are nano-dollars
-- (10^-9 USD), the unit of rekindle_llm::budget::Cost.
CREATE TABLE ai_budget_days (
    account_id BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    cost_nano_usd INTEGER NOT NULL DEFAULT 0 CHECK (cost_nano_usd >= 0),
    reserved_nano_usd INTEGER NOT NULL DEFAULT 0 CHECK (reserved_nano_usd >= 0),
    input_tokens INTEGER NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
    output_tokens INTEGER NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
    calls INTEGER NOT NULL DEFAULT 0 CHECK (calls >= 0),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (account_id, day)
);

-- One row per LLM request: cost_micros rounds up, so the exact cost of cheap
-- calls (fractions of a micro-dollar) is kept in nano-dollars beside it.
ALTER TABLE ai_usage ADD COLUMN cost_nano_usd INTEGER NOT NULL DEFAULT 0 CHECK (cost_nano_usd >= 0);
