def find_user(db, email):
    # TODO: case-insensitive lookup @bob
    return db.get(email)


def mask_phone(number):
    return number[:3] + "-XXXX"
