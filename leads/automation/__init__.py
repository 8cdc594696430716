"""The lead-side periodic jobs beat runs: the stale sweep and closing after the cadence.

Due times live on the lead (stale_at, next_action_due_at); each job is a scan of what is due,
set-based or under each lead's own lock, so running it twice, or two copies at once (two beats
by mistake), changes nothing the second time. Every run is recorded (trialsnest.ops.jobs).
"""
