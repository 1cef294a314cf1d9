import datetime, django
from django.conf import settings
settings.configure(SECRET_KEY="django-vector-secret-key-0123456789abcdef", USE_TZ=True, TIME_ZONE="UTC",
    INSTALLED_APPS=["django.contrib.auth","django.contrib.contenttypes"], DATABASES={"default":{"ENGINE":"django.db.backends.sqlite3","NAME":":memory:"}},
    PASSWORD_RESET_TIMEOUT=259200)
django.setup()
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.auth.models import User
from django.utils.http import urlsafe_base64_encode
from django.utils.encoding import force_bytes
u = User(pk=7, username="alice", password="argon2$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", email="alice@example.com",
         last_login=datetime.datetime(2024,5,1,12,30,0,123456,tzinfo=datetime.timezone.utc))
g = PasswordResetTokenGenerator()
ts = g._num_seconds(datetime.datetime(2026,11,28,10,0,0))
print("ts", ts)
print("token", g._make_token_with_timestamp(u, ts, settings.SECRET_KEY))
u2 = User(pk=12345, username="bob", password="!unusable", email="", last_login=None)
print("token2", g._make_token_with_timestamp(u2, ts, settings.SECRET_KEY))
print("uid", urlsafe_base64_encode(force_bytes(12345)))
