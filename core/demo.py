"""Demo users, one per role, so that a new user of `make run` can log in as each kind of person."""

from django.contrib.auth.models import Group

from core import roles
from core.models import Organization, User

DEMO_PASSWORD = "hanoi2026"

DEMO_USERS = [
    # username, full name, organisation, roles, is_staff
    ("admin", "Quản trị hệ thống", "SO_KHCN_HN", [roles.ADMINISTRATOR], True),
    ("minh", "Nguyễn Văn Minh", "SO_KHCN_HN", [roles.CITY_OFFICIAL], False),
    ("ha", "Trần Thu Hà", "CUC_VT", [roles.NATIONAL_OFFICIAL], False),
    ("lan", "Phạm Thị Lan", "VIETTEL", [roles.OPERATOR_STAFF], False),
    ("tuan", "Hoàng Anh Tuấn", "VNPT", [roles.OPERATOR_STAFF], False),
    ("huy", "Lê Quang Huy", "MOBIFONE", [roles.OPERATOR_STAFF], False),
]


def load(stdout=None):
    created = 0
    for username, full_name, org_code, role_names, is_staff in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            first, _, last = full_name.rpartition(" ")
            user = User(username=username, first_name=last, last_name=first)
            user.set_password(DEMO_PASSWORD)
            created += 1
        user.organization = Organization.objects.get(code=org_code)
        user.is_staff = is_staff
        user.is_superuser = roles.ADMINISTRATOR in role_names
        user.save()
        user.groups.set(Group.objects.filter(name__in=role_names))
    if stdout:
        stdout.write(f"core: {created} demo users created ({len(DEMO_USERS)} in all).")
    return {"users": created}


def describe():
    """Lines `make run` prints: who can log in, with which password (load_demo_data adds the lines
    of every other app's demo ``describe()``, such as the sync app's API clients)."""
    lines = [f"  {u:<11} {', '.join(r)} · {org}" for u, _, org, r, _ in DEMO_USERS]
    return [f"Demo log-ins (password: {DEMO_PASSWORD}):", *lines]
