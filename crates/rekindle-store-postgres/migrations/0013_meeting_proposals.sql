-- A meeting proposed to a lead who replied positively: the times offered and
-- the reply drafted for the user to send, until the lead picks a time.
ALTER TABLE meetings
    ADD COLUMN proposed_slots jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN draft_subject text,
    ADD COLUMN draft_body text;
