"""Operations services: database backups and restores."""
