"""Every write about accounts that has a business meaning.

Each function takes keyword-only arguments and the acting user (``by=``; None
for the operator at the command line), runs in one transaction and writes its
audit event in that same transaction.
"""

from hdh.accounts.services.login import (
    LoginAttempt,
    attempt_login,
    record_login_failure,
    record_login_success,
    record_logout,
    record_session_expired,
)
from hdh.accounts.services.mfa import (
    begin_totp_enrolment,
    confirm_totp_enrolment,
    confirmed_device,
    enrol_confirmed_totp,
    reset_totp,
    verify_totp,
)
from hdh.accounts.services.users import (
    create_organisation,
    create_user,
    deactivate_user,
    end_sessions_of,
    grant_role,
    require_manager,
    revoke_role,
    save_account_changes,
    save_organisation,
    unlock_user,
)

__all__ = [
    "LoginAttempt",
    "attempt_login",
    "begin_totp_enrolment",
    "confirm_totp_enrolment",
    "confirmed_device",
    "create_organisation",
    "create_user",
    "deactivate_user",
    "end_sessions_of",
    "enrol_confirmed_totp",
    "grant_role",
    "record_login_failure",
    "record_login_success",
    "record_logout",
    "record_session_expired",
    "require_manager",
    "reset_totp",
    "revoke_role",
    "save_account_changes",
    "save_organisation",
    "unlock_user",
    "verify_totp",
]
