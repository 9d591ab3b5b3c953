package shop.cart;

import java.util.ArrayList;
import java.util.List;

public class CartService {
    private final List<String> skus = new ArrayList<>();

    public CartService() {
    }

    public void add(String sku) {
        if (sku == null) {
            throw new IllegalArgumentException("sku");
        }
        skus.add(sku);
    }

    public int count() {
        return skus.size();
    }

    private static String normalize(String sku) {
        return sku.trim().toUpperCase();
    }

    public enum State { OPEN, CLOSED }

    public interface Listener {
        void onAdd(String sku);
    }
}
