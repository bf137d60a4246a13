"""A bare Django app: one view, no middleware, no database (the framework's floor)."""

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.urls import path

settings.configure(DEBUG=False, ALLOWED_HOSTS=["*"], ROOT_URLCONF=__name__, SECRET_KEY="bare", MIDDLEWARE=[])


def ping(request):
    return HttpResponse("ok")


urlpatterns = [path("bench/ping", ping)]
application = get_wsgi_application()
