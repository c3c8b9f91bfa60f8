"""亲友代办: a person lets a relative or friend act for them in named scopes until a date, and
a parent acts for a minor child on the strength of the child's 出生医学证明 in the parent's
wallet (guardianship, until the child turns 18)."""
