-- What a stage run's LLM-backed agent did instead of the LLM: the stable
-- reason (budget_exceeded, circuit_open, timeout, ...) and its description,
-- NULL when the LLM answered or no LLM was involved. The campaign step a crew
-- run prepared, so a failed lead can be retried at that step.
ALTER TABLE stage_runs ADD COLUMN fallback text;
ALTER TABLE stage_runs ADD COLUMN fallback_detail text;
ALTER TABLE crew_runs ADD COLUMN step_position integer CHECK (step_position BETWEEN 1 AND 10);

-- Crew runs are listed newest first, optionally for one campaign.
CREATE INDEX crew_runs_campaign ON crew_runs (account_id, campaign_id, id);
-- The stage runs of one lead, to find where it failed.
CREATE INDEX stage_runs_lead ON stage_runs (account_id, lead_id);
