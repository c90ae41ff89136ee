ALTER TABLE bookings ADD CONSTRAINT during_valid CHECK (NOT isempty(during)) NOT VALID;
