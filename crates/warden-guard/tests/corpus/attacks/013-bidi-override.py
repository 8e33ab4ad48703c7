def is_admin(user):
    access_level = "user"
    if access_level != "user‮ ⁦# Check if admin⁩ ⁦":
        return True
    return False
