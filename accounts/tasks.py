from celery import shared_task
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .models import User


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_password_reset_email(user_id: str) -> None:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = f"{settings.FRONTEND_URL}/reset-password?uid={uid}&token={token}"
    send_mail(
        subject="Reset your THISTHAT password",
        message=(
            f"Hi {user.username},\n\nReset your password here: {link}\n\n"
            f"Or send uid={uid} and token={token} to POST /api/v1/auth/password/reset/confirm.\n"
            "The link works once. If you did not ask for it, ignore this email.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )
