"""A saved change of a user's password or active state ends every sign-in of the user, whoever saves
it (the services, the admin's password form, `manage.py changepassword`, a shell): their access tokens
are then refused by the family check alone, with no query for the user (accounts.authentication).
`users_set_active` changes the active state with an UPDATE and ends the sign-ins itself."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import SessionEndReason, User
from .tokens import tokens_revoke_all


@receiver(post_save, sender=User, dispatch_uid="accounts.sign_ins_end_on_credentials_change")
def sign_ins_end_on_credentials_change(sender, instance: User, created: bool, **kwargs) -> None:
    loaded = instance.credentials_as_loaded
    if created or loaded is None:
        return
    (password, active), (loaded_password, _) = instance.credentials_state(), loaded
    if password != loaded_password:
        tokens_revoke_all(user=instance, reason=SessionEndReason.PASSWORD_CHANGED)
    elif loaded[1] and not active:
        tokens_revoke_all(user=instance, reason=SessionEndReason.DEACTIVATED)
    instance.credentials_as_loaded = (password, active)  # once ended: a failed end is tried again
