-- A meeting proposed to a lead who replied positively: the times offered and
-- the reply drafted for the user to send, until the lead picks a time.
ALTER TABLE meetings ADD COLUMN proposed_slots TEXT NOT NULL DEFAULT '[]';
ALTER TABLE meetings ADD COLUMN draft_subject TEXT;
ALTER TABLE meetings ADD COLUMN draft_body TEXT;
