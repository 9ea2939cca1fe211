-- Finds paused enrollments whose resume time has come.
CREATE INDEX enrollments_resume ON enrollments (next_run_at) WHERE status = 'paused';
