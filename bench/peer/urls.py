from django.http import HttpResponse
from django.urls import include, path


def ping(request):
    return HttpResponse("ok")


urlpatterns = [path("bench/ping", ping), path("", include("helpdesk.urls", namespace="helpdesk"))]
