from core.scoping import sees_everything


def portal(request):
    """What every page needs to know about the user: which roles, and whether they see all records."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"is_official": False, "user_roles": []}
    return {"is_official": sees_everything(user), "user_roles": user.role_labels}
