"""统一身份认证: person and enterprise accounts, logins, real-name levels, tokens,
staff accounts, registered kiosk devices and service codes."""
