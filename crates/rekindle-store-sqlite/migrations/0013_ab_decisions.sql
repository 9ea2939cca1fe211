-- A/B decisions on campaign steps, and what a decision needs from each
-- message: the other variant's subject, so a scheduled message can switch to
-- the winner, and the personalisation elements for the positive-reply report.
ALTER TABLE campaign_steps ADD COLUMN ab_winner TEXT CHECK (ab_winner IN ('A', 'B'));
ALTER TABLE campaign_steps ADD COLUMN ab_decided_at TEXT;
ALTER TABLE campaign_steps ADD COLUMN ab_figures TEXT;
ALTER TABLE messages ADD COLUMN alternate_subject TEXT;
ALTER TABLE messages ADD COLUMN personalisation_elements TEXT NOT NULL DEFAULT '[]';
CREATE INDEX messages_step_variant ON messages (account_id, step_id, variant, status);
-- The funnel and the A/B counts find a message's replies by message id.
CREATE INDEX replies_message ON replies (account_id, message_id) WHERE message_id IS NOT NULL;
