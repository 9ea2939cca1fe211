-- A/B decisions on campaign steps, and what a decision needs from each
-- message: the other variant's subject, so a scheduled message can switch to
-- the winner, and the personalisation elements for the positive-reply report.
ALTER TABLE campaign_steps
    ADD COLUMN ab_winner text CHECK (ab_winner IN ('A', 'B')),
    ADD COLUMN ab_decided_at timestamptz,
    ADD COLUMN ab_figures jsonb,
    ADD CONSTRAINT campaign_steps_ab_decision_complete CHECK (
        (ab_winner IS NULL) = (ab_decided_at IS NULL)
        AND (ab_winner IS NULL) = (ab_figures IS NULL)
    );
ALTER TABLE messages
    ADD COLUMN alternate_subject text,
    ADD COLUMN personalisation_elements jsonb NOT NULL DEFAULT '[]'::jsonb;
CREATE INDEX messages_step_variant ON messages (account_id, step_id, variant, status);
-- The funnel and the A/B counts find a message's replies by message id.
CREATE INDEX replies_message ON replies (account_id, message_id) WHERE message_id IS NOT NULL;
