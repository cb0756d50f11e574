-- Source timecode (issue 17): the start timecode the prober read from the file's container
-- ("HH:MM:SS:FF", "HH:MM:SS;FF" for drop-frame), or NULL. Files probed before this migration
-- get it at their next probe (a re-probe, or a change of the file).
ALTER TABLE media_info ADD COLUMN timecode TEXT;
