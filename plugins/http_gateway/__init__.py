"""Generic HTTP SMS gateway channel (``http-sms``): Kannel, Jasmin, playSMS and the like."""
