"""Blinker signals, sent by the AuthService instance after the change commits.

Connect with ``user_created.connect_via(service)`` to tell two instances apart; async
receivers are awaited through ``send_async``. Signals are for observing, not deciding.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: kwargs: user
user_created = _signals.signal("user-created")
#: kwargs: user, changes (list of field names)
user_updated = _signals.signal("user-updated")
#: kwargs: user_id, actor_id
user_deleted = _signals.signal("user-deleted")
#: kwargs: user, actor_id, reason
user_suspended = _signals.signal("user-suspended")
#: kwargs: user, actor_id, reason
user_unsuspended = _signals.signal("user-unsuspended")
#: kwargs: user, session_id (hash of the new session), method
user_logged_in = _signals.signal("user-logged-in")
#: kwargs: user_id (None for unknown identifiers), ip_address
login_failed = _signals.signal("login-failed")
#: kwargs: user
password_changed = _signals.signal("password-changed")
#: kwargs: user, token (the raw single-use token, for delivery)
password_reset_requested = _signals.signal("password-reset-requested")
#: kwargs: user
password_reset = _signals.signal("password-reset")
#: kwargs: user_id, role, scope, actor_id
role_assigned = _signals.signal("role-assigned")
#: kwargs: user_id, role, scope, actor_id
role_removed = _signals.signal("role-removed")
#: kwargs: user_id, count, reason
sessions_revoked = _signals.signal("sessions-revoked")
#: kwargs: organization, actor_id
org_created = _signals.signal("org-created")
#: kwargs: organization_id, actor_id, user_ids (who lost their roles there)
org_deleted = _signals.signal("org-deleted")
#: kwargs: team, actor_id
team_created = _signals.signal("team-created")
#: kwargs: team_id, organization_id, actor_id, user_ids
team_deleted = _signals.signal("team-deleted")
#: kwargs: invitation_id, organization_id, team_id, email, role, actor_id
member_invited = _signals.signal("member-invited")
#: kwargs: user_id, organization_id, team_id, role, actor_id (the inviter or adder)
member_joined = _signals.signal("member-joined")
#: kwargs: user_id, organization_id, team_id, actor_id (the user themself when leaving)
member_removed = _signals.signal("member-removed")
#: kwargs: organization_id, from_user_id, to_user_id
ownership_transferred = _signals.signal("ownership-transferred")

#: kwargs: user_id, provider
social_account_connected = _signals.signal("social-account-connected")
#: kwargs: user_id, provider
social_account_disconnected = _signals.signal("social-account-disconnected")
#: kwargs: user_id, provider (the provider vouched for the user; MFA may still follow)
social_signed_in = _signals.signal("social-signed-in")

ALL = (user_created, user_updated, user_deleted, user_suspended, user_unsuspended,
       user_logged_in, login_failed, password_changed, password_reset_requested,
       password_reset, role_assigned, role_removed, sessions_revoked, social_account_connected,
       social_account_disconnected, social_signed_in, org_created, org_deleted, team_created,
       team_deleted, member_invited, member_joined, member_removed, ownership_transferred)
